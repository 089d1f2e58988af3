// Runs named jobs on their intervals, with jitter so that many agents (and many targets) do not
// hit an endpoint in lockstep. A job's next run is planned only when its current run ends, so
// two runs of one job never overlap; a shared queue bounds how many run at once.
import { setMaxListeners } from "node:events";
import { settlesWithin } from "../probes/context.js";

export interface Job {
  name: string;
  intervalMs: number;
}

export interface SchedulerOptions {
  /** One run of a job; `signal` aborts at the shutdown deadline. Rejections go to `onError`. */
  run: (name: string, signal: AbortSignal) => Promise<void>;
  /** Each interval is drawn from [interval × (1 − jitter), interval × (1 + jitter)]. */
  jitter: number;
  maxConcurrent: number;
  /** First runs are spread over [0, min(interval, this)) after start. Default 5 s. */
  firstRunSpreadMs?: number;
  /** A job with no event (planned, due, started, finished) for this long means a stall. */
  stallAfterMs: number;
  onError?: (name: string, err: unknown) => void;
  random?: () => number;
  now?: () => number;
}

export interface SchedulerHealth {
  alive: boolean;
  stalled: string[];
  running: number;
  queued: number;
}

interface JobState {
  job: Job;
  timer?: NodeJS.Timeout;
  phase: "waiting" | "queued" | "running";
  lastEventMs: number;
  startedAtMs: number;
  /** Removed by a reload while running: dropped when that run ends. */
  removed: boolean;
}

const DEFAULT_FIRST_RUN_SPREAD_MS = 5_000;
/** Addresses x stages x phases of one run may all wait on its signal at once. */
const MAX_LISTENERS_PER_RUN = 1_024;

export class Scheduler {
  private readonly jobs = new Map<string, JobState>();
  private queue: JobState[] = [];
  private readonly running = new Map<JobState, { done: Promise<void>; abort: AbortController }>();
  private stopped = false;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private opts: SchedulerOptions) {
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
  }

  /** Adds new jobs (first run soon), updates kept ones, drops the others (a running one finishes). */
  update(
    jobs: Job[],
    change: Partial<Pick<SchedulerOptions, "jitter" | "maxConcurrent" | "stallAfterMs">> = {},
  ): void {
    if (this.stopped) return;
    this.opts = { ...this.opts, ...change };
    const wanted = new Map(jobs.map((j) => [j.name, j]));
    for (const [name, state] of this.jobs) {
      if (wanted.has(name)) continue;
      clearTimeout(state.timer);
      this.queue = this.queue.filter((s) => s !== state);
      if (state.phase === "running") state.removed = true;
      else this.jobs.delete(name);
    }
    for (const job of jobs) {
      const state = this.jobs.get(job.name);
      if (state) {
        state.job = job;
        state.removed = false;
      } else {
        const fresh: JobState = {
          job,
          phase: "waiting",
          lastEventMs: this.now(),
          startedAtMs: 0,
          removed: false,
        };
        this.jobs.set(job.name, fresh);
        const spread = Math.min(
          job.intervalMs,
          this.opts.firstRunSpreadMs ?? DEFAULT_FIRST_RUN_SPREAD_MS,
        );
        this.planIn(fresh, this.random() * spread);
      }
    }
    this.pump();
  }

  health(): SchedulerHealth {
    const now = this.now();
    const stalled = [...this.jobs.values()]
      .filter((s) => !s.removed && now - s.lastEventMs > this.opts.stallAfterMs)
      .map((s) => s.job.name);
    return {
      alive: !this.stopped && stalled.length === 0,
      stalled,
      running: this.running.size,
      queued: this.queue.length,
    };
  }

  /**
   * Stops planning runs, waits up to `graceMs` for those in flight, then aborts them and waits up
   * to `abortWaitMs` more. Resolves with how many runs were aborted and how many never ended.
   */
  async stop(
    graceMs: number,
    abortWaitMs = 1_000,
  ): Promise<{ aborted: number; unfinished: number }> {
    this.stopped = true;
    for (const state of this.jobs.values()) clearTimeout(state.timer);
    this.queue = [];
    if (await this.settled(graceMs)) return { aborted: 0, unfinished: 0 };
    const aborted = this.running.size;
    for (const r of this.running.values()) r.abort.abort();
    await this.settled(abortWaitMs);
    return { aborted, unfinished: this.running.size };
  }

  private async settled(ms: number): Promise<boolean> {
    if (this.running.size === 0) return true;
    await settlesWithin(Promise.allSettled([...this.running.values()].map((r) => r.done)), ms);
    return this.running.size === 0;
  }

  private planIn(state: JobState, delayMs: number): void {
    state.phase = "waiting";
    state.lastEventMs = this.now();
    state.timer = setTimeout(() => this.due(state), Math.max(0, Math.round(delayMs)));
  }

  private due(state: JobState): void {
    state.timer = undefined;
    if (this.stopped || state.removed) return;
    state.phase = "queued";
    state.lastEventMs = this.now();
    this.queue.push(state);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.opts.maxConcurrent) {
      const next = this.queue.shift();
      if (!next) return;
      this.start(next);
    }
  }

  private start(state: JobState): void {
    state.phase = "running";
    state.startedAtMs = state.lastEventMs = this.now();
    // One signal per run: a run listens on it from every probe it has open at once, and they
    // all go when the run ends (a shared signal would collect listeners across runs).
    const abort = new AbortController();
    setMaxListeners(MAX_LISTENERS_PER_RUN, abort.signal);
    const done = Promise.resolve()
      .then(() => this.opts.run(state.job.name, abort.signal))
      .catch((err: unknown) => this.opts.onError?.(state.job.name, err))
      .finally(() => this.finished(state));
    this.running.set(state, { done, abort });
  }

  private finished(state: JobState): void {
    this.running.delete(state);
    state.lastEventMs = this.now();
    if (state.removed) this.jobs.delete(state.job.name);
    else if (!this.stopped) this.planIn(state, this.nextDelay(state));
    this.pump();
  }

  /** Counted from the run's start, so the cadence holds; a run longer than that restarts at once. */
  private nextDelay(state: JobState): number {
    const factor = 1 + this.opts.jitter * (2 * this.random() - 1);
    return Math.max(0, state.startedAtMs + state.job.intervalMs * factor - this.now());
  }
}
