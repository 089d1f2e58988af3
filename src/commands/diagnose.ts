// `diagnose`: one run over every target, a report on stdout, logs on stderr, an exit code.
import type { Logger } from "pino";
import type { Settings } from "../config/load.js";
import { diagnose } from "../diagnose/run.js";
import { renderJson } from "../report/json.js";
import { renderText } from "../report/text.js";
import type { Report } from "../types.js";
import type { LookupFn } from "../probes/os-resolver.js";

export type Format = "text" | "json";

export async function runDiagnose(
  settings: Settings,
  opts: { format: Format; color: boolean; log: Logger; signal?: AbortSignal; lookup?: LookupFn },
): Promise<Report> {
  const report = await diagnose(settings.targets, {
    concurrency: settings.concurrency,
    signal: opts.signal,
    lookup: opts.lookup,
  });
  logReport(opts.log, report);
  process.stdout.write(
    opts.format === "json" ? renderJson(report) : renderText(report, { color: opts.color }),
  );
  return report;
}

/** One event per finding, then a summary per target and overall. */
export function logReport(log: Logger, report: Report): void {
  for (const t of report.targets) {
    for (const f of t.findings) {
      const level = f.status === "fail" ? "warn" : "info";
      log[level](
        { event: "finding", target: t.name, ...f },
        `${f.code}${f.address ? ` ${f.address}` : ""}${f.stage ? ` ${f.stage}` : ""}`,
      );
    }
    log.info(
      {
        event: "target",
        target: t.name,
        verdict: t.verdict,
        primaryCause: t.primaryCause?.code ?? null,
        durationMs: t.durationMs,
      },
      `${t.name}: ${t.verdict}`,
    );
  }
  log.info(
    {
      event: "summary",
      verdict: report.verdict,
      exitCode: report.exitCode,
      durationMs: report.durationMs,
    },
    report.verdict,
  );
}
