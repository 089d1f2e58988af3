// What a run is waiting for, told as it starts waiting: the one hook a run offers to whoever
// shows progress (a terminal's progress line). Plain data, and the promise that ends the wait.
import type { Layer } from "../types.js";

/** A check the run has started and not finished. */
export interface PendingCheck {
  layer: Layer;
  address?: string;
  stage?: string;
  /** For dns: the resolver asked, `host:port`. */
  resolver?: string;
  /** The phase's own budget: the check ends by then. */
  timeoutMs: number;
}

/** Told when a check starts; `settled` settles (either way) when it ends. */
export type OnPending = (check: PendingCheck, settled: Promise<unknown>) => void;

/** `work`, unchanged, after telling `hook` (if any) that `check` waits on it. */
export function pending<T>(
  hook: OnPending | undefined,
  check: PendingCheck,
  work: Promise<T>,
): Promise<T> {
  hook?.(check, work);
  return work;
}
