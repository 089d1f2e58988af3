// What a run is waiting for, told as it starts waiting: the one hook a run offers to whoever
// shows progress (a terminal's progress line). Plain data, and the promise that ends the wait.
import type { OnPending, PendingCheck } from "../types.js";

export type { OnPending, PendingCheck };

/** `work`, unchanged, after telling `hook` (if any) that `check` waits on it. */
export function pending<T>(
  hook: OnPending | undefined,
  check: PendingCheck,
  work: Promise<T>,
): Promise<T> {
  hook?.(check, work);
  return work;
}
