// `--watch`: what one run says beside the runs before it. Pure: the loop (commands/watch.ts)
// feeds each run's report in and prints what comes out: a line per run (time, verdict, primary
// cause, what changed), whether the full report is due (the verdict or a primary cause changed),
// and `FIXED after ...` when a target that failed answers healthy.
import type { FindingCode, Report, TargetReport, Verdict } from "../types.js";
import { printable } from "./text.js";

/** What the watch remembers of each target between runs. */
interface Seen {
  verdict: Verdict;
  cause: FindingCode | null;
  /** The failing and warning findings, as `CODE address stage`. */
  problems: Set<string>;
  /** Start of the first run of the current unhealthy stretch; undefined while healthy. */
  unhealthySince?: number;
  /** The primary cause of the last unhealthy run. */
  lastCause?: FindingCode | null;
}

export type WatchState = Map<string, Seen>;

export const newWatchState = (): WatchState => new Map();

export interface Fixed {
  target: string;
  /** From the start of the first unhealthy run seen to the start of the healthy one. */
  afterMs: number;
  /** The verdict and primary cause it had before. */
  was: Verdict;
  cause: FindingCode | null;
}

export interface RunChange {
  /** 1 for the first run. */
  run: number;
  /** What differs from the run before, short; empty when nothing did. */
  changes: string[];
  /** The verdict or a primary cause changed (the first run counts): print the full report. */
  showReport: boolean;
  fixed: Fixed[];
}

/** The JSON Lines field each run's document carries under `--watch --format json`. */
export interface WatchField {
  run: number;
  changes: string[];
  fixed: { target: string; afterMs: number; was: Verdict; cause: FindingCode | null }[];
}

/** Compares `report` with the runs before (updating `state`). */
export function observeRun(state: WatchState, report: Report, run: number): RunChange {
  const at = Date.parse(report.startedAt);
  const changes: string[] = [];
  const fixed: Fixed[] = [];
  let showReport = run === 1;
  const several = report.targets.length > 1;
  for (const t of report.targets) {
    const before = state.get(t.name);
    const now = seen(t, before, at);
    state.set(t.name, now);
    if (!before) continue;
    const who = several ? `${t.name}: ` : "";
    if (before.verdict !== now.verdict) changes.push(`${who}${before.verdict} -> ${now.verdict}`);
    if (before.cause !== now.cause) {
      showReport = true;
      changes.push(`${who}cause ${before.cause ?? "none"} -> ${now.cause ?? "none"}`);
    }
    if (before.verdict !== now.verdict) showReport = true;
    for (const p of now.problems) if (!before.problems.has(p)) changes.push(`${who}+${p}`);
    for (const p of before.problems) if (!now.problems.has(p)) changes.push(`${who}-${p}`);
    if (now.verdict === "healthy" && before.unhealthySince !== undefined)
      fixed.push({
        target: t.name,
        afterMs: Math.max(0, at - before.unhealthySince),
        was: before.verdict,
        cause: before.lastCause ?? null,
      });
  }
  return { run, changes, showReport, fixed };
}

function seen(t: TargetReport, before: Seen | undefined, at: number): Seen {
  const cause = t.primaryCause?.code ?? null;
  const problems = new Set(
    t.findings
      .filter((f) => f.status !== "pass")
      .map((f) => [f.code, f.address, f.stage].filter(Boolean).join(" ")),
  );
  if (t.verdict === "healthy") return { verdict: t.verdict, cause, problems };
  return {
    verdict: t.verdict,
    cause,
    problems,
    unhealthySince: before?.unhealthySince ?? at,
    lastCause: cause,
  };
}

const MAX_CHANGES = 4;

/**
 * `01:52:10  FAILING   TCP_TIMEOUT on 2 of 2 addresses  · healthy -> failing, +TCP_TIMEOUT 10.0.1.5`
 * (several targets: each one's verdict and cause, `orders failing TCP_TIMEOUT; ledger healthy`).
 */
export function watchLine(report: Report, change: RunChange, opts: { color: boolean }): string {
  const time = new Date(report.startedAt).toTimeString().slice(0, 8);
  const verdict = paintVerdict(report.verdict, opts.color);
  const causes =
    report.targets.length === 1
      ? causeOf(report.targets[0] as TargetReport)
      : report.targets
          .map((t) => `${t.name} ${t.verdict}${t.primaryCause ? ` ${t.primaryCause.code}` : ""}`)
          .join("; ");
  const shown = change.changes.slice(0, MAX_CHANGES);
  const more = change.changes.length - shown.length;
  const what =
    change.run === 1
      ? "first run"
      : shown.length === 0
        ? "no change"
        : `${shown.join(", ")}${more > 0 ? ` (+${more} more)` : ""}`;
  // What the network and the config named is escaped; the color codes are ours.
  return `${time}  ${verdict}  ${printable(`${causes}  · ${what}`)}`;
}

function causeOf(t: TargetReport): string {
  const c = t.primaryCause;
  if (!c) return t.verdict === "healthy" ? "every stage answers" : "-";
  const of = t.addresses.length;
  const where =
    c.addresses.length > 0
      ? ` on ${c.addresses.length} of ${of} address${of === 1 ? "" : "es"}`
      : "";
  return `${c.code}${where}`;
}

/** `FIXED after 4m12s: orders (failing, TCP_TIMEOUT)`. */
export function fixedLine(f: Fixed, several: boolean): string {
  const who = several ? ` ${f.target}` : "";
  return printable(
    `FIXED after ${formatDuration(f.afterMs)}:${who} was ${f.was}${f.cause ? ` (${f.cause})` : ""}`,
  );
}

/** `42s`, `4m12s`, `1h03m`: how long a fix took, to the second. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

const COLOR: Record<Verdict, number> = { healthy: 32, degraded: 33, failing: 31 };

function paintVerdict(v: Verdict, color: boolean): string {
  const word = v.toUpperCase().padEnd(8);
  return color ? `\x1b[1;${COLOR[v]}m${word}\x1b[0m` : word;
}

/** The `watch` field of a run's JSON line. */
export function watchField(change: RunChange): WatchField {
  return { run: change.run, changes: change.changes, fixed: change.fixed };
}

/**
 * Causes whose fix is a change in AWS that applies slowly: AWS documents about 15 minutes for a
 * security policy or endpoint access mode change, and for a new domain name access association.
 */
const SLOW_FIXES: ReadonlySet<FindingCode> = new Set<FindingCode>([
  "HTTP_MODE_REJECTED",
  "HTTP_MISDIRECTED",
  "HTTP_DOMAIN_FORBIDDEN",
  "TLS_12_REFUSED",
]);

/** While watching such a cause: a fix made in AWS a minute ago may not show yet. */
export function slowFixNote(report: Report): string | undefined {
  const slow = report.targets.some(
    (t) =>
      (t.primaryCause && SLOW_FIXES.has(t.primaryCause.code)) ||
      t.findings.some((f) => f.status !== "pass" && SLOW_FIXES.has(f.code)),
  );
  if (!slow) return undefined;
  return (
    "note: a change of the API's security policy or endpoint access mode, or a new domain name " +
    "access association, takes about 15 minutes to apply in AWS: keep watching"
  );
}
