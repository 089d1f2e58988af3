// The log events of a run, for `diagnose` and the daemon alike: one event per finding, one per
// target, and (daemon) a line when a target's verdict or cause changes. Fields are the report's.
import type { Logger } from "pino";
import type { Finding, Report, TargetReport, Verdict } from "../types.js";

const LEVEL: Record<Verdict, "info" | "warn" | "error"> = {
  healthy: "info",
  degraded: "warn",
  failing: "error",
};

function findingEvent(log: Logger, target: string, f: Finding, level: "debug" | "info" | "warn") {
  const where = `${f.address ? ` ${f.address}` : ""}${f.stage ? ` ${f.stage}` : ""}`;
  log[level]({ event: "finding", target, ...f }, `${target}: ${f.code}${where}`);
}

/** The summary of one target's run, the same in a one-shot and in the daemon. */
function targetEvent(log: Logger, t: TargetReport, event: "target" | "run") {
  const cause = t.primaryCause;
  log[LEVEL[t.verdict]](
    {
      event,
      target: t.name,
      verdict: t.verdict,
      primaryCause: cause?.code ?? null,
      layer: cause?.layer ?? null,
      findings: t.findings.length,
      failed: t.findings.filter((f) => f.status === "fail").length,
      unfinished: t.unfinished.length,
      durationMs: t.durationMs,
    },
    `${t.name}: ${t.verdict}${cause ? ` (${cause.code})` : ""}`,
  );
}

/** `diagnose`: every finding (failures at warn), a summary per target, then the run's. */
export function logReport(log: Logger, report: Report): void {
  for (const t of report.targets) {
    for (const f of t.findings) findingEvent(log, t.name, f, f.status === "fail" ? "warn" : "info");
    targetEvent(log, t, "target");
  }
  log[report.interrupted ? "warn" : "info"](
    {
      event: "summary",
      verdict: report.verdict,
      interrupted: report.interrupted,
      exitCode: report.exitCode,
      durationMs: report.durationMs,
    },
    report.interrupted ? `interrupted (${report.verdict} so far)` : report.verdict,
  );
}

/** The daemon: findings at debug, the run at its verdict's level, and any change of verdict. */
export function logRun(log: Logger, report: TargetReport, before: TargetReport | undefined): void {
  if (log.isLevelEnabled("debug"))
    for (const f of report.findings) findingEvent(log, report.name, f, "debug");
  targetEvent(log, report, "run");
  const cause = report.primaryCause;
  const fromCause = before?.primaryCause?.code ?? null;
  const toCause = cause?.code ?? null;
  if (before && before.verdict === report.verdict && fromCause === toCause) return;
  log[LEVEL[report.verdict]](
    {
      event: "verdict_change",
      target: report.name,
      from: before?.verdict ?? null,
      to: report.verdict,
      fromCause,
      toCause,
      message: cause?.message,
      hint: cause?.hint,
    },
    `${report.name}: ${before?.verdict ?? "(first run)"} -> ${report.verdict}${toCause ? `: ${toCause}` : ""}`,
  );
}
