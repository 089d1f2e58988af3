/** What every probe receives: a deadline for its phase and a parent signal. Probes do not log:
 * they return what they saw, and the caller logs the findings made of it. */
export interface ProbeContext {
  /** Aborted when the whole diagnosis is cancelled (daemon shutdown, Ctrl-C). */
  signal: AbortSignal;
  /** This phase's budget. */
  timeoutMs: number;
}

export const elapsed = (since: number): number => Math.round((performance.now() - since) * 10) / 10;

/**
 * Runs `body` with a settle-once callback bounded by the phase timeout and the parent signal;
 * `cleanup` always runs, exactly once, whichever way it ends.
 */
export function bounded<T>(
  ctx: ProbeContext,
  onTimeout: () => T,
  body: (settle: (value: T) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve) => {
    let done = false;
    let cleanup: () => void = () => {};
    const settle = (value: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", abort);
      cleanup();
      resolve(value);
    };
    const abort = () => settle(onTimeout());
    const timer = setTimeout(abort, ctx.timeoutMs);
    if (ctx.signal.aborted) return abort();
    ctx.signal.addEventListener("abort", abort, { once: true });
    cleanup = body(settle);
    if (done) cleanup();
  });
}
