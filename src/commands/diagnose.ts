// `diagnose`: one run over every target, a report on stdout, logs on stderr, an exit code.
import type { Logger } from "pino";
import type { Settings } from "../config/load.js";
import { diagnose, type RunOptions } from "../diagnose/run.js";
import { logReport } from "../report/events.js";
import { renderJson } from "../report/json.js";
import { renderText } from "../report/text.js";
import type { Report } from "../types.js";
import { isolatedLookup, type LookupFn } from "../probes/os-resolver.js";

export type Format = "text" | "json";

export async function runDiagnose(
  settings: Settings,
  opts: {
    format: Format;
    color: boolean;
    log: Logger;
    signal?: AbortSignal;
    lookup?: LookupFn;
    ipv6?: RunOptions["ipv6"];
  },
): Promise<Report> {
  const report = await diagnose(settings.targets, {
    concurrency: settings.concurrency,
    signal: opts.signal,
    // One shot: the OS lookup runs in a child, so the process can exit when the report is out.
    lookup: opts.lookup ?? isolatedLookup,
    ipv6: opts.ipv6,
  });
  logReport(opts.log, report);
  await write(
    opts.format === "json" ? renderJson(report) : renderText(report, { color: opts.color }),
  );
  if (report.interrupted)
    process.stderr.write(`apigw-diag: interrupted after ${report.durationMs} ms\n`);
  return report;
}

/** Resolves once the report is handed to the OS, so the process may exit right after. */
function write(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}
