/** What every probe receives: a deadline for its phase and a parent signal. Probes do not log:
 * they return what they saw, and the caller logs the findings made of it. */
export interface ProbeContext {
  /** Aborted when the whole diagnosis is cancelled (daemon shutdown, Ctrl-C): never a timeout. */
  signal: AbortSignal;
  /** This phase's budget. */
  timeoutMs: number;
}

/**
 * Why a phase ended before its answer: its own budget ran out, or the run was cancelled. Two
 * different facts: a cancelled check waited for nothing and must not be reported as a timeout.
 */
export type EndReason = "timeout" | "cancelled";

/** The fields every observation carries about how its phase ended without an answer. */
export const ended = (reason: EndReason) => ({
  timedOut: reason === "timeout",
  cancelled: reason === "cancelled",
});

const ORIGIN = process.hrtime.bigint();

/**
 * Milliseconds on the monotonic clock, the clock of every phase timing. Not the global
 * `performance`: its first use loads perf_hooks and seven more of Node's modules, each compiled
 * from source at every one-shot start under the bin's V8 flag (docs/performance.md).
 */
export const now = (): number => Number(process.hrtime.bigint() - ORIGIN) / 1e6;

export const elapsed = (since: number): number => Math.round((now() - since) * 10) / 10;

/** Whether `p` settles (either way) within `ms`; the timer is cleared whatever the answer. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = p.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `body` with a settle-once callback bounded by the phase timeout and the cancel signal;
 * `onEnd` is told which of the two ended it. `cleanup` always runs, exactly once.
 *
 * The phase budget is a plain timer cleared on settle rather than `AbortSignal.timeout()`: the
 * daemon runs thousands of phases an hour, and a cleared timer leaves nothing behind, while
 * the reason stays as explicit as `signal.reason` would make it.
 */
export function bounded<T>(
  ctx: ProbeContext,
  onEnd: (reason: EndReason) => T,
  body: (settle: (value: T) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve) => {
    let done = false;
    let cleanup: () => void = () => {};
    const settle = (value: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", cancel);
      cleanup();
      resolve(value);
    };
    const cancel = () => settle(onEnd("cancelled"));
    const timer = setTimeout(() => settle(onEnd("timeout")), ctx.timeoutMs);
    if (ctx.signal.aborted) return cancel();
    ctx.signal.addEventListener("abort", cancel, { once: true });
    cleanup = body(settle);
    if (done) cleanup();
  });
}

/**
 * The one shape of a probe, after blackbox_exporter's `ProbeFn`: a context (deadline, cancel)
 * and what to look at in; what it saw out, as plain data, never a finding. It does not throw for
 * anything the network does: a failure is part of the observation. src/probes/contract.ts checks
 * that every probe has this shape.
 */
export type Probe<I, O> = (ctx: ProbeContext, input: I) => Promise<O>;

/**
 * What a connecting probe returns: its observation, plain data that can be logged and kept,
 * and apart from it the open connection (when there is one), which the caller owns and closes.
 */
export interface Connected<O, S> {
  observation: O;
  socket?: S;
}
