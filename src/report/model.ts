// The one report model: the documents `diagnose` prints and the daemon serves are built here,
// from target reports, so JSON, text, logs and metrics all read the same object.
import type { Report, TargetReport } from "../types.js";
import { EXIT, worstVerdict } from "../types.js";
import { version } from "../version.js";

export const TOOL = (): Report["tool"] => ({ name: "apigw-diag", version: version() });

/**
 * A run's document. A cancelled run is `interrupted` and exits 3 whatever it saw: its verdict
 * speaks only of the checks that finished, and `unfinished` names the others.
 */
export function buildReport(
  targets: TargetReport[],
  run: { startedAt: Date; durationMs: number; cancelled: boolean },
): Report {
  const verdict = worstVerdict(targets.map((t) => t.verdict));
  const interrupted = run.cancelled || targets.some((t) => t.unfinished.length > 0);
  return {
    schemaVersion: 1,
    tool: TOOL(),
    startedAt: run.startedAt.toISOString(),
    durationMs: run.durationMs,
    targets,
    verdict,
    interrupted,
    exitCode: interrupted ? EXIT.error : EXIT[verdict],
  };
}

/** The daemon's last run of a target, with when it ran. */
export interface LastRun {
  report: TargetReport;
  startedAt: string;
  finishedAt: string;
  /** When the verdict or the primary cause last changed (the first run counts as a change). */
  changedAt: string;
}

/** The daemon's `/report`: the last run of every target, and the targets not run yet. */
export function daemonDocument(names: string[], last: ReadonlyMap<string, LastRun>) {
  return {
    schemaVersion: 1,
    tool: TOOL(),
    generatedAt: new Date().toISOString(),
    targets: names.flatMap((name) => {
      const run = last.get(name);
      return run ? [{ ...run.report, startedAt: run.startedAt, finishedAt: run.finishedAt }] : [];
    }),
    pending: names.filter((name) => !last.has(name)),
  };
}
