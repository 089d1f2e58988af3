// `diagnose --watch [interval]`: the same diagnosis again and again, for the length of an
// incident. A line per run, the full report when the verdict or a primary cause changes,
// `FIXED after ...` when a failing target turns healthy; `--until healthy` ends at the first
// healthy run (exit 0), Ctrl-C with exit 3. JSON Lines under `--format json`.
import { setTimeout as sleep } from "node:timers/promises";
import type { Settings } from "../config/load.js";
import { parseDuration } from "../config/duration.js";
import { now } from "../probes/context.js";
import { renderText } from "../report/text.js";
import {
  fixedLine,
  formatDuration,
  newWatchState,
  observeRun,
  slowFixNote,
  watchField,
  watchLine,
  type RunChange,
} from "../report/watch.js";
import { EXIT, UsageError, type Report } from "../types.js";
import { diagnoseOnce, write, type DiagnoseOptions } from "./diagnose.js";

export const DEFAULT_WATCH_INTERVAL = "10s";
/** Below this a watch would hammer the API more than it tells anyone. */
const MIN_INTERVAL_MS = 1000;

export interface WatchSpec {
  intervalMs: number;
  until?: "healthy";
}

/**
 * `--watch [interval]` and `--until healthy` as given (`--watch` alone is ""), or undefined when
 * neither asks to watch. `--until healthy` alone watches at the default interval.
 */
export function watchSpec(
  watch: string | undefined,
  until: string | undefined,
): WatchSpec | undefined {
  if (watch === undefined && until === undefined) return undefined;
  if (until !== undefined && until !== "healthy")
    throw new UsageError(`--until: healthy is the one condition, not ${JSON.stringify(until)}`);
  const intervalMs = parseDuration(watch || DEFAULT_WATCH_INTERVAL, "--watch");
  if (intervalMs < MIN_INTERVAL_MS) throw new UsageError("--watch: an interval of at least 1s");
  return { intervalMs, ...(until ? { until } : {}) };
}

/** Runs until interrupted (exit 3) or, with `until`, until a healthy run (exit 0). */
export async function runWatch(
  settings: Settings,
  spec: WatchSpec,
  opts: DiagnoseOptions,
): Promise<number> {
  const state = newWatchState();
  const watching = now();
  for (let run = 1; ; run++) {
    const started = now();
    const report = await diagnoseOnce(settings, opts);
    // A run cut short says nothing new: the last full report stands.
    if (report.interrupted) return interrupted(run - 1, watching);
    const change = observeRun(state, report, run);
    await write(opts.format === "json" ? jsonLine(report, change) : text(report, change, opts));
    if (spec.until === "healthy" && report.verdict === "healthy") return EXIT.healthy;
    const wait = Math.max(0, started + spec.intervalMs - now());
    if (!(await pause(wait, opts.signal))) return interrupted(run, watching);
  }
}

function jsonLine(report: Report, change: RunChange): string {
  return `${JSON.stringify({ ...report, watch: watchField(change) })}\n`;
}

function text(report: Report, change: RunChange, opts: DiagnoseOptions): string {
  const several = report.targets.length > 1;
  const out = [watchLine(report, change, { color: opts.color })];
  for (const f of change.fixed) out.push(fixedLine(f, several));
  if (change.showReport) {
    out.push("", renderText(report, { color: opts.color }).trimEnd());
    const note = slowFixNote(report);
    if (note) out.push(note);
    out.push("");
  }
  return `${out.join("\n")}\n`;
}

/** Waits `ms`; false when the signal ended the wait. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function interrupted(runs: number, since: number): number {
  const plural = runs === 1 ? "" : "s";
  process.stderr.write(
    `apigw-diag: interrupted after ${runs} run${plural} (${formatDuration(now() - since)} watching)\n`,
  );
  return EXIT.error;
}
