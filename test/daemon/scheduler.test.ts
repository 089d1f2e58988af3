import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Scheduler, type Job, type SchedulerOptions } from "../../src/daemon/scheduler.js";

/** A small deterministic generator, so a failure replays. */
function seeded(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

const jobs = (names: string[], intervalMs: number): Job[] =>
  names.map((name) => ({ name, intervalMs }));

/** Records every start and end, and how many run at once, per job and in total. */
function recorder(durationMs: (name: string) => number) {
  const starts = new Map<string, number[]>();
  const active = new Map<string, number>();
  let total = 0;
  let maxTotal = 0;
  let maxPerJob = 0;
  const run: SchedulerOptions["run"] = async (name, signal) => {
    starts.set(name, [...(starts.get(name) ?? []), Date.now()]);
    active.set(name, (active.get(name) ?? 0) + 1);
    total++;
    maxTotal = Math.max(maxTotal, total);
    maxPerJob = Math.max(maxPerJob, active.get(name)!);
    await new Promise<void>((resolve) => {
      const onAbort = () => (clearTimeout(t), resolve());
      const t = setTimeout(
        () => (signal.removeEventListener("abort", onAbort), resolve()),
        durationMs(name),
      );
      signal.addEventListener("abort", onAbort, { once: true });
    });
    active.set(name, active.get(name)! - 1);
    total--;
  };
  return { run, starts, max: () => ({ total: maxTotal, perJob: maxPerJob }) };
}

function scheduler(opts: Partial<SchedulerOptions> & Pick<SchedulerOptions, "run">) {
  return new Scheduler({ jitter: 0.1, maxConcurrent: 4, stallAfterMs: 60_000, ...opts });
}

describe("scheduler", () => {
  let started: Scheduler[] = [];
  beforeEach(() => {
    vi.useFakeTimers();
    started = [];
  });
  afterEach(async () => {
    vi.useRealTimers();
    for (const s of started) await s.stop(0, 0);
  });
  const track = (s: Scheduler) => (started.push(s), s);

  it("never overlaps two runs of a target, even when a run outlasts its interval", async () => {
    const rec = recorder(() => 2_500);
    const s = track(scheduler({ run: rec.run, random: seeded(1) }));
    s.update(jobs(["a", "b"], 1_000));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(rec.max().perJob).toBe(1);
    for (const times of rec.starts.values()) {
      expect(times.length).toBeGreaterThan(15);
      // A run longer than the interval is followed at once, never joined by a second one.
      for (let i = 1; i < times.length; i++)
        expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(2_500);
    }
  });

  it("bounds how many targets run at once", async () => {
    const rec = recorder(() => 700);
    const s = track(scheduler({ run: rec.run, maxConcurrent: 2, random: seeded(2) }));
    s.update(jobs(["a", "b", "c", "d", "e"], 1_000));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(rec.max().total).toBe(2);
    expect(rec.max().perJob).toBe(1);
    for (const name of ["a", "b", "c", "d", "e"])
      expect(rec.starts.get(name)?.length).toBeGreaterThan(5);
  });

  it("keeps every interval within the jitter bounds", async () => {
    const rec = recorder(() => 50);
    const s = track(scheduler({ run: rec.run, jitter: 0.2, random: seeded(3) }));
    s.update(jobs(["a", "b", "c"], 10_000));
    await vi.advanceTimersByTimeAsync(600_000);
    const gaps = [...rec.starts.values()].flatMap((t) => t.slice(1).map((v, i) => v - t[i]!));
    expect(gaps.length).toBeGreaterThan(150);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(8_000);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(12_000);
    // Jitter actually spreads: not every gap is the same.
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeGreaterThan(2_000);
  });

  it("reaches both ends of the jitter range", async () => {
    for (const [r, gap] of [
      [0, 7_000],
      [0.999_999_9, 13_000],
    ] as const) {
      const rec = recorder(() => 0);
      const s = track(scheduler({ run: rec.run, jitter: 0.3, random: () => r }));
      s.update(jobs(["a"], 10_000));
      await vi.advanceTimersByTimeAsync(100_000);
      const t = rec.starts.get("a")!;
      expect(t[2]! - t[1]!).toBe(gap);
      await s.stop(0, 0);
    }
  });

  it("starts each target soon after start, spread over the first interval (at most 5 s)", async () => {
    const rec = recorder(() => 10);
    const t0 = Date.now();
    const s = track(scheduler({ run: rec.run, random: seeded(4) }));
    s.update(jobs(["a", "b", "c", "d", "e", "f"], 60_000));
    await vi.advanceTimersByTimeAsync(5_000);
    const firsts = [...rec.starts.values()].map((t) => t[0]! - t0);
    expect(firsts).toHaveLength(6);
    expect(Math.max(...firsts)).toBeLessThan(5_000);
    expect(new Set(firsts).size).toBeGreaterThan(3);
  });

  it("on stop, plans nothing more and lets in-flight runs finish within the grace time", async () => {
    const rec = recorder(() => 300);
    const s = scheduler({ run: rec.run, random: () => 0 });
    s.update(jobs(["a"], 1_000));
    await vi.advanceTimersByTimeAsync(10);
    const stopping = s.stop(1_000);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await stopping).toEqual({ aborted: 0, unfinished: 0 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rec.starts.get("a")).toHaveLength(1);
  });

  it("aborts runs still going at the grace deadline", async () => {
    const signals: AbortSignal[] = [];
    const s = scheduler({
      random: () => 0,
      run: (_name, signal) =>
        new Promise<void>((resolve) => {
          signals.push(signal);
          signal.addEventListener("abort", () => resolve(), { once: true });
        }),
    });
    s.update(jobs(["a", "b"], 1_000));
    await vi.advanceTimersByTimeAsync(10);
    const stopping = s.stop(500);
    await vi.advanceTimersByTimeAsync(600);
    expect(await stopping).toEqual({ aborted: 2, unfinished: 0 });
    expect(signals.every((sig) => sig.aborted)).toBe(true);
    expect(s.health().alive).toBe(false);
  });

  it("reports a stall when a target has not moved for stallAfterMs", async () => {
    const s = track(
      scheduler({ stallAfterMs: 5_000, random: () => 0, run: () => new Promise<void>(() => {}) }),
    );
    s.update(jobs(["hung"], 1_000));
    await vi.advanceTimersByTimeAsync(4_000);
    expect(s.health()).toMatchObject({ alive: true, running: 1 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(s.health()).toMatchObject({ alive: false, stalled: ["hung"] });
  });

  it("keeps going when a run throws, and reports the error", async () => {
    const errors: string[] = [];
    let runs = 0;
    const s = track(
      scheduler({
        random: () => 0.5,
        onError: (name, err) => errors.push(`${name}: ${(err as Error).message}`),
        run: async () => {
          runs++;
          throw new Error("boom");
        },
      }),
    );
    s.update(jobs(["a"], 1_000));
    await vi.advanceTimersByTimeAsync(5_200);
    expect(runs).toBeGreaterThanOrEqual(5);
    expect(errors[0]).toBe("a: boom");
    expect(s.health().alive).toBe(true);
  });

  it("on update, drops removed targets and does not overlap one re-added while it runs", async () => {
    const rec = recorder(() => 800);
    const s = track(scheduler({ run: rec.run, random: () => 0 }));
    s.update(jobs(["a", "b"], 1_000));
    await vi.advanceTimersByTimeAsync(100); // both running
    s.update(jobs(["b"], 1_000)); // a removed mid-run
    s.update(jobs(["a", "b"], 1_000)); // and back before its run ends
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rec.max().perJob).toBe(1);
    s.update(jobs(["b"], 1_000));
    await vi.advanceTimersByTimeAsync(2_000);
    const aRuns = rec.starts.get("a")!.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rec.starts.get("a")).toHaveLength(aRuns);
    expect(s.health()).toMatchObject({ alive: true, queued: 0 });
  });
});
