// The progress line of a terminal: while a run waits longer than a second, one line on stderr
// says what it waits for and for how long against that check's timeout, and it is erased
// before the report. Written with Node's readline cursor functions; nothing at all where
// stderr is not a terminal (a pipe, a log, a container), so no log or JSON ever holds it.
import { clearLine, cursorTo } from "node:readline";
import type { OnPending, PendingCheck } from "../types.js";
import { now } from "../probes/context.js";

/** What the line needs of a stream: a terminal's columns, and readline's cursor moves on it. */
export type TerminalStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface ProgressOptions {
  /** No line before a check has waited this long. */
  delayMs?: number;
  /** How often the line is redrawn. */
  everyMs?: number;
}

export interface Progress {
  /** The run's hook (RunOptions.onPending). */
  onPending: OnPending;
  /** Erases the line (if shown) and stops redrawing; the next check starts it again. */
  clear(): void;
}

const DELAY_MS = 1000;
const EVERY_MS = 200;

/** The progress line on `stream`, or undefined where `stream` is not a terminal. */
export function progressLine(
  stream: TerminalStream,
  opts: ProgressOptions = {},
): Progress | undefined {
  if (!stream.isTTY) return undefined;
  const delayMs = opts.delayMs ?? DELAY_MS;
  const everyMs = opts.everyMs ?? EVERY_MS;
  const waiting = new Set<{ check: PendingCheck; since: number }>();
  let timer: NodeJS.Timeout | undefined;
  let shown = false;
  const erase = () => {
    if (!shown) return;
    cursorTo(stream, 0);
    clearLine(stream, 0);
    shown = false;
  };
  const draw = () => {
    const t = now();
    const oldest = [...waiting].sort((a, b) => a.since - b.since)[0];
    if (!oldest || t - oldest.since < delayMs) return erase();
    const line = describeWait(oldest.check, t - oldest.since, waiting.size - 1);
    cursorTo(stream, 0);
    stream.write(fit(line, stream.columns));
    clearLine(stream, 1); // what a longer line left to the right
    shown = true;
  };
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };
  return {
    onPending(check, settled) {
      const entry = { check, since: now() };
      waiting.add(entry);
      const done = () => {
        waiting.delete(entry);
        if (waiting.size === 0) {
          stop();
          erase();
        }
      };
      settled.then(done, done);
      // Unref'd: a line on a terminal never keeps the process alive.
      timer ??= setInterval(draw, everyMs).unref();
    },
    clear() {
      stop();
      erase();
    },
  };
}

/** `waiting: tcp 10.20.2.10 2.1 s of 5 s (+3 more)`. */
export function describeWait(check: PendingCheck, waitedMs: number, others: number): string {
  const where = [check.address ?? check.resolver, check.stage].filter(Boolean).join(" ");
  const of = `${seconds(waitedMs)} s of ${seconds(check.timeoutMs)} s`;
  const more = others > 0 ? ` (+${others} more)` : "";
  return `waiting: ${check.layer}${where ? ` ${where}` : ""} ${of}${more}`;
}

const seconds = (ms: number) => String(Math.round(ms / 100) / 10);

/** One row: a line that wraps could not be erased by clearing the cursor's row. */
function fit(line: string, columns: number | undefined): string {
  if (!columns || line.length < columns) return line;
  return `${line.slice(0, Math.max(0, columns - 2))}…`;
}
