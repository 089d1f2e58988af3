// `diagnose`: one run over every target, a report on stdout, logs on stderr, an exit code.
import type { Logger } from "pino";
import type { Settings } from "../config/load.js";
import { diagnose, type RunOptions } from "../diagnose/run.js";
import { logReport } from "../report/events.js";
import { renderJson } from "../report/json.js";
import { progressLine } from "../report/progress.js";
import { renderText } from "../report/text.js";
import type { Report } from "../types.js";
import { isolatedLookup, type LookupFn } from "../probes/os-resolver.js";

export type Format = "text" | "json";

export interface DiagnoseOptions {
  format: Format;
  color: boolean;
  log: Logger;
  signal?: AbortSignal;
  lookup?: LookupFn;
  ipv6?: RunOptions["ipv6"];
}

export async function runDiagnose(settings: Settings, opts: DiagnoseOptions): Promise<Report> {
  const report = await diagnoseOnce(settings, opts);
  await write(
    opts.format === "json" ? renderJson(report) : renderText(report, { color: opts.color }),
  );
  if (report.interrupted)
    process.stderr.write(`apigw-diag: interrupted after ${report.durationMs} ms\n`);
  return report;
}

/**
 * One run, logged, with the progress line on a terminal's stderr while it waits (erased before
 * anything else is written): what `diagnose` prints once and `--watch` again and again.
 */
export async function diagnoseOnce(settings: Settings, opts: DiagnoseOptions): Promise<Report> {
  const progress = progressLine(process.stderr);
  let report: Report;
  try {
    report = await diagnose(settings.targets, {
      concurrency: settings.concurrency,
      signal: opts.signal,
      // One shot: the OS lookup runs in a child, so the process can exit when the report is out.
      lookup: opts.lookup ?? isolatedLookup,
      ipv6: opts.ipv6,
      onPending: progress?.onPending,
    });
  } finally {
    progress?.clear();
  }
  logReport(opts.log, report);
  return report;
}

/** Resolves once the report is handed to the OS, so the process may exit right after. */
export function write(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}
