// The daemon: every target on its interval, a log line per run and per verdict change, the
// last reports as metrics and JSON over HTTP, SIGHUP to reload, SIGTERM/SIGINT to stop cleanly.
import pLimit from "p-limit";
import type { Logger } from "pino";
import type { Settings } from "../config/load.js";
import { diagnoseTarget, type RunOptions } from "../diagnose/run.js";
import { ComparisonCache } from "../diagnose/compare.js";
import { ReuseCache } from "../diagnose/reuse.js";
import type { PreparedTarget } from "../config/prepare.js";
import { logRun } from "../report/events.js";
import { daemonDocument, type LastRun } from "../report/model.js";
import { UsageError, type TargetReport } from "../types.js";
import { version } from "../version.js";
import { DaemonMetrics } from "./metrics.js";
import { Prober } from "./probe.js";
import { Scheduler } from "./scheduler.js";
import { startStatusServer, type StatusServer } from "./server.js";
import { webConfigOf } from "./web-config.js";

export interface DaemonOptions {
  settings: Settings;
  log: Logger;
  /** Reads the config again (SIGHUP); throws (or rejects) on an invalid one. */
  reload?: () => Settings | Promise<Settings>;
  /** How long in-flight runs may finish after SIGTERM before they are aborted. Default 3 s. */
  shutdownGraceMs?: number;
  /** Replaces the real diagnosis (tests). */
  diagnoseTarget?: (target: PreparedTarget, opts: RunOptions) => Promise<TargetReport>;
  processMetrics?: boolean;
  random?: () => number;
}

export interface Daemon {
  host: string;
  port: number;
  metrics: DaemonMetrics;
  /**
   * Applies a freshly loaded config; false (and the old one kept) when it does not load. Reloads
   * apply one after the other, in the order asked.
   */
  reload(): Promise<boolean>;
  stop(reason?: string): Promise<void>;
}

const DEFAULT_GRACE_MS = 3_000;
/** A run is bounded by its phases: dns (udp then tcp), connect, tls, http, and some slack. */
const PHASES_PER_RUN = 6;

/** What the daemon's parts share, and a reload replaces. */
interface State {
  settings: Settings;
  targets: Map<string, PreparedTarget>;
  /** The last run of every target that has run. */
  last: Map<string, LastRun>;
  lastCompletedMs: number;
  stopping?: Promise<void>;
}

type Run = NonNullable<DaemonOptions["diagnoseTarget"]>;

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const { log } = opts;
  const run = opts.diagnoseTarget ?? diagnoseTarget;
  const state: State = {
    settings: opts.settings,
    targets: byName(opts.settings.targets),
    last: new Map(),
    lastCompletedMs: Date.now(),
  };
  const metrics = new DaemonMetrics({ processMetrics: opts.processMetrics });
  // One connection limit for every run in flight: --concurrency means the same as in diagnose.
  const limit = pLimit(state.settings.concurrency);
  const scheduler = newScheduler(state, recordRuns(state, run, limit, metrics, log), {
    metrics,
    log,
    random: opts.random,
  });
  const prober = new Prober({
    current: () => ({
      modules: state.settings.modules,
      maxConcurrentProbes: state.settings.daemon.maxConcurrentProbes,
    }),
    run,
    limit,
    log,
  });
  const server = await serve(state, { scheduler, metrics, prober, log });
  scheduler.update(jobs(state.settings));
  log.info(
    {
      event: "started",
      targets: [...state.targets.keys()],
      intervalMs: state.settings.daemon.intervalMs,
    },
    `watching ${state.targets.size} target${state.targets.size === 1 ? "" : "s"}`,
  );
  const apply = () => applyReload(state, opts.reload, { scheduler, metrics, limit, log, server });
  let reloading: Promise<boolean> = Promise.resolve(true);
  return {
    host: server.host,
    port: server.port,
    metrics,
    reload() {
      reloading = reloading.then(apply, apply);
      return reloading;
    },
    stop(reason = "stop") {
      state.stopping ??= shutdown(reason, opts.shutdownGraceMs ?? DEFAULT_GRACE_MS, {
        scheduler,
        server,
        log,
      });
      return state.stopping;
    },
  };
}

/** One run of a target, kept as its last run, recorded in the metrics and logged. */
function recordRuns(
  state: State,
  run: Run,
  limit: RunOptions["limit"],
  metrics: DaemonMetrics,
  log: Logger,
) {
  // A long outage compares access modes once, not on every interval (docs/design.md: access modes).
  const comparisonCache = new ComparisonCache();
  // AZs, the TLS 1.2 check and the zone question: asked once per REUSE_MAX_AGE_MS, not per run.
  const reuse = new ReuseCache();
  return async (name: string, signal: AbortSignal): Promise<void> => {
    const target = state.targets.get(name);
    if (!target) return;
    const startedAt = new Date();
    const report = await run(target, { signal, limit, comparisonCache, reuse });
    // Cut short by shutdown, or dropped by a reload meanwhile: not an observation of the path.
    if (signal.aborted || !state.targets.has(name)) {
      log.debug({ event: "run_discarded", target: name }, `${name}: run discarded`);
      return;
    }
    const finished = Date.now();
    state.lastCompletedMs = finished;
    const previous = state.last.get(name);
    const before = previous?.report;
    const finishedAt = new Date(finished).toISOString();
    state.last.set(name, {
      report,
      startedAt: startedAt.toISOString(),
      finishedAt,
      changedAt: previous && !changed(before, report) ? previous.changedAt : finishedAt,
    });
    metrics.record(report, finished);
    logRun(log, report, before);
  };
}

function newScheduler(
  state: State,
  runOnce: (name: string, signal: AbortSignal) => Promise<void>,
  { metrics, log, random }: { metrics: DaemonMetrics; log: Logger; random?: () => number },
): Scheduler {
  const { daemon } = state.settings;
  return new Scheduler({
    run: runOnce,
    jitter: daemon.jitter,
    maxConcurrent: daemon.maxConcurrentTargets,
    stallAfterMs: stallAfterMs(state.settings),
    random,
    onError: (name, err) => {
      metrics.recordError(name);
      log.error({ event: "run_error", target: name, err }, `${name}: run failed`);
    },
  });
}

interface Parts {
  scheduler: Scheduler;
  metrics: DaemonMetrics;
  prober: Prober;
  log: Logger;
}

/** The status server on the configured address; a UsageError when it cannot listen there. */
async function serve(state: State, parts: Parts): Promise<StatusServer> {
  const { host, port } = state.settings.daemon.listen;
  const web = await webConfigOf(state.settings.daemon.webConfig);
  let server: StatusServer;
  try {
    server = await startStatusServer(
      state.settings.daemon.listen,
      handlers(state, parts),
      parts.log,
      web,
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`listen ${host}:${port}: ${code}`);
  }
  parts.log.info(
    { event: "listening", host: server.host, port: server.port },
    `serving /, /metrics, /probe, /healthz and /report on ${server.scheme}://${server.host}:${server.port}`,
  );
  return server;
}

/** What each path of the status server answers, read from the state at the time of asking. */
function handlers(state: State, { scheduler, metrics, prober }: Parts) {
  return {
    metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
    health: () => {
      const h = scheduler.health();
      // Runs that start and end but never complete (each throws) keep the scheduler busy and
      // alive: what counts is that some target finished a run lately.
      const sinceCompletedMs = Date.now() - state.lastCompletedMs;
      const completing = sinceCompletedMs <= idleAfterMs(state.settings);
      return { ok: h.alive && completing, detail: { ...h, completing, sinceCompletedMs } };
    },
    report: () => daemonDocument([...state.targets.keys()], state.last),
    probe: (req: Parameters<Prober["handle"]>[0]) => prober.handle(req),
    status: async () => {
      const { renderStatusPage } = await import("./status-page.js");
      return renderStatusPage({
        version: version(),
        generatedAt: new Date(),
        intervalMs: state.settings.daemon.intervalMs,
        targets: state.settings.targets.map((target) => ({
          target,
          last: state.last.get(target.name),
        })),
        modules: state.settings.modules.names(),
      });
    },
  };
}

/** Reads the config again and applies it; false, with the old one kept, when it does not load. */
async function applyReload(
  state: State,
  reload: DaemonOptions["reload"],
  parts: Pick<Parts, "scheduler" | "metrics" | "log"> & {
    limit: RunOptions["limit"];
    server: StatusServer;
  },
): Promise<boolean> {
  const { log } = parts;
  if (state.stopping || !reload) return false;
  let next: Settings;
  try {
    next = await reload();
    // A web config that does not load fails the reload whole: the door keeps its lock.
    parts.server.setWebConfig(await webConfigOf(next.daemon.webConfig));
  } catch (err) {
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    log.error(
      { event: "reload_failed", reason },
      `config reload failed, keeping the previous config: ${reason}`,
    );
    return false;
  }
  if (state.stopping) return false;
  if (!sameListen(next, state.settings)) {
    log.warn(
      { event: "reload_listen_ignored", listen: next.daemon.listen },
      "the listen address changes only with a restart",
    );
  }
  adopt(state, next, parts);
  log.info({ event: "reload", targets: [...state.targets.keys()] }, "config reloaded");
  return true;
}

/** `next` in place of the settings: targets gone are forgotten, the schedule follows. */
function adopt(
  state: State,
  next: Settings,
  {
    scheduler,
    metrics,
    limit,
  }: Pick<Parts, "scheduler" | "metrics"> & { limit: RunOptions["limit"] },
): void {
  state.settings = next;
  if (limit) limit.concurrency = next.concurrency;
  state.targets = byName(next.targets);
  for (const name of [...state.last.keys()]) if (!state.targets.has(name)) state.last.delete(name);
  metrics.retain(state.targets.keys());
  scheduler.update(jobs(next), {
    jitter: next.daemon.jitter,
    maxConcurrent: next.daemon.maxConcurrentTargets,
    stallAfterMs: stallAfterMs(next),
  });
}

/** Lets runs in flight finish within `graceMs`, then closes the server. */
async function shutdown(
  reason: string,
  graceMs: number,
  { scheduler, server, log }: { scheduler: Scheduler; server: StatusServer; log: Logger },
): Promise<void> {
  log.info({ event: "stopping", reason }, `stopping (${reason})`);
  const { aborted, unfinished } = await scheduler.stop(graceMs);
  await server.close();
  log.info({ event: "stopped", aborted, unfinished }, "stopped");
  log.flush();
}

/** Runs until SIGTERM or SIGINT; SIGHUP reloads. Resolves with the exit code. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  // Before anything awaits: SIGHUP's default action would end the process.
  let daemon: Daemon | undefined;
  let stopSignal: NodeJS.Signals | undefined;
  let wake: () => void = () => {};
  const onHup = () =>
    void daemon?.reload().catch((err: unknown) => {
      const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
      opts.log.error({ event: "reload_failed", reason }, `config reload failed: ${reason}`);
    });
  const onStop = (signal: NodeJS.Signals) => {
    stopSignal ??= signal;
    wake();
  };
  process.on("SIGHUP", onHup);
  process.on("SIGTERM", onStop);
  process.on("SIGINT", onStop);
  try {
    daemon = await startDaemon(opts);
    if (!stopSignal) await new Promise<void>((resolve) => (wake = resolve));
    await daemon.stop(stopSignal);
    return 0;
  } finally {
    process.off("SIGHUP", onHup);
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
  }
}

/** A first run, or another verdict or primary cause than the run before. */
function changed(before: TargetReport | undefined, now: TargetReport): boolean {
  if (!before) return true;
  return (
    before.verdict !== now.verdict ||
    (before.primaryCause?.code ?? null) !== (now.primaryCause?.code ?? null)
  );
}

function byName(targets: PreparedTarget[]): Map<string, PreparedTarget> {
  return new Map(targets.map((t) => [t.name, t]));
}

function jobs(settings: Settings) {
  return settings.targets.map((t) => ({ name: t.name, intervalMs: settings.daemon.intervalMs }));
}

/**
 * Healthy as long as every target moves within two of its longest intervals plus the runs that
 * may queue ahead of it (bounded concurrency), each bounded by its phase timeouts.
 */
export function stallAfterMs(settings: Settings): number {
  const { intervalMs, jitter, maxConcurrentTargets } = settings.daemon;
  const longestTimeout = Math.max(0, ...settings.targets.map((t) => t.timeoutMs));
  const runBudget = PHASES_PER_RUN * longestTimeout;
  const waves = Math.ceil(settings.targets.length / maxConcurrentTargets);
  return Math.round(2 * intervalMs * (1 + jitter) + (waves + 1) * runBudget);
}

/**
 * Unhealthy when no target has completed a run for three intervals (and never sooner than one
 * run may take, bounded by its phase timeouts).
 */
export function idleAfterMs(settings: Settings): number {
  const longestTimeout = Math.max(0, ...settings.targets.map((t) => t.timeoutMs));
  return Math.max(3 * settings.daemon.intervalMs, PHASES_PER_RUN * longestTimeout);
}

function sameListen(a: Settings, b: Settings): boolean {
  return (
    a.daemon.listen.host === b.daemon.listen.host && a.daemon.listen.port === b.daemon.listen.port
  );
}
