// The daemon: every target on its interval, a log line per run and per verdict change, the
// last reports as metrics and JSON over HTTP, SIGHUP to reload, SIGTERM/SIGINT to stop cleanly.
import type { Logger } from "pino";
import type { Settings } from "../config/load.js";
import { diagnoseTarget, type RunOptions } from "../diagnose/run.js";
import { UsageError, type Target, type TargetReport, type Verdict } from "../types.js";
import { version } from "../version.js";
import { DaemonMetrics } from "./metrics.js";
import { Prober } from "./probe.js";
import { Scheduler } from "./scheduler.js";
import { startStatusServer, type StatusServer } from "./server.js";

export interface DaemonOptions {
  settings: Settings;
  log: Logger;
  /** Reads the config again (SIGHUP); throws on an invalid one. */
  reload?: () => Settings;
  /** How long in-flight runs may finish after SIGTERM before they are aborted. Default 3 s. */
  shutdownGraceMs?: number;
  /** Replaces the real diagnosis (tests). */
  diagnoseTarget?: (target: Target, opts: RunOptions) => Promise<TargetReport>;
  processMetrics?: boolean;
  random?: () => number;
}

export interface Daemon {
  host: string;
  port: number;
  metrics: DaemonMetrics;
  /** Applies a freshly loaded config; false (and the old one kept) when it does not load. */
  reload(): boolean;
  stop(reason?: string): Promise<void>;
}

interface LastRun {
  report: TargetReport;
  startedAt: string;
  finishedAt: string;
  /** When the verdict or the primary cause last changed (for the status page). */
  changedAt: string;
}

const DEFAULT_GRACE_MS = 3_000;
/** A run is bounded by its phases: dns (udp then tcp), connect, tls, http, and some slack. */
const PHASES_PER_RUN = 6;

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const { log } = opts;
  const run = opts.diagnoseTarget ?? diagnoseTarget;
  let settings = opts.settings;
  let targets = byName(settings.targets);
  const last = new Map<string, LastRun>();
  const metrics = new DaemonMetrics({ processMetrics: opts.processMetrics });

  const runOnce = async (name: string, signal: AbortSignal): Promise<void> => {
    const target = targets.get(name);
    if (!target) return;
    const startedAt = new Date();
    const report = await run(target, { signal, concurrency: settings.concurrency });
    // Cut short by shutdown, or dropped by a reload meanwhile: not an observation of the path.
    if (signal.aborted || !targets.has(name)) {
      log.debug({ event: "run_discarded", target: name }, `${name}: run discarded`);
      return;
    }
    const finished = Date.now();
    const previous = last.get(name);
    const before = previous?.report;
    const finishedAt = new Date(finished).toISOString();
    last.set(name, {
      report,
      startedAt: startedAt.toISOString(),
      finishedAt,
      changedAt: previous && !changed(before, report) ? previous.changedAt : finishedAt,
    });
    metrics.record(report, finished);
    logRun(log, report, before);
  };

  const scheduler = new Scheduler({
    run: runOnce,
    jitter: settings.daemon.jitter,
    maxConcurrent: settings.daemon.maxConcurrentTargets,
    stallAfterMs: stallAfterMs(settings),
    random: opts.random,
    onError: (name, err) =>
      log.error({ event: "run_error", target: name, err }, `${name}: run failed`),
  });

  const prober = new Prober({
    current: () => ({
      modules: settings.modules,
      concurrency: settings.concurrency,
      maxConcurrentProbes: settings.daemon.maxConcurrentProbes,
    }),
    run,
    log,
  });

  let server: StatusServer;
  try {
    server = await startStatusServer(
      settings.daemon.listen,
      {
        metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
        health: () => {
          const h = scheduler.health();
          return { ok: h.alive, detail: { ...h } };
        },
        report: () => reportDocument(settings.targets, last),
        probe: (req) => prober.handle(req),
        status: async () => {
          const { renderStatusPage } = await import("./status-page.js");
          return renderStatusPage({
            version: version(),
            generatedAt: new Date(),
            intervalMs: settings.daemon.intervalMs,
            targets: settings.targets.map((target) => ({ target, last: last.get(target.name) })),
            modules: settings.modules.names(),
          });
        },
      },
      log,
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    const { host, port } = settings.daemon.listen;
    throw new UsageError(`listen ${host}:${port}: ${code}`);
  }
  log.info(
    { event: "listening", host: server.host, port: server.port },
    `serving /, /metrics, /probe, /healthz and /report on ${server.host}:${server.port}`,
  );
  scheduler.update(jobs(settings));
  log.info(
    { event: "started", targets: [...targets.keys()], intervalMs: settings.daemon.intervalMs },
    `watching ${targets.size} target${targets.size === 1 ? "" : "s"}`,
  );

  let stopping: Promise<void> | undefined;
  return {
    host: server.host,
    port: server.port,
    metrics,
    reload() {
      if (stopping || !opts.reload) return false;
      let next: Settings;
      try {
        next = opts.reload();
      } catch (err) {
        const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
        log.error(
          { event: "reload_failed", reason },
          `config reload failed, keeping the previous config: ${reason}`,
        );
        return false;
      }
      if (!sameListen(next, settings)) {
        log.warn(
          { event: "reload_listen_ignored", listen: next.daemon.listen },
          "the listen address changes only with a restart",
        );
      }
      settings = next;
      targets = byName(next.targets);
      for (const name of [...last.keys()]) if (!targets.has(name)) last.delete(name);
      metrics.retain(targets.keys());
      scheduler.update(jobs(next), {
        jitter: next.daemon.jitter,
        maxConcurrent: next.daemon.maxConcurrentTargets,
        stallAfterMs: stallAfterMs(next),
      });
      log.info({ event: "reload", targets: [...targets.keys()] }, "config reloaded");
      return true;
    },
    stop(reason = "stop") {
      stopping ??= (async () => {
        log.info({ event: "stopping", reason }, `stopping (${reason})`);
        const grace = opts.shutdownGraceMs ?? DEFAULT_GRACE_MS;
        const { aborted, unfinished } = await scheduler.stop(grace);
        await server.close();
        log.info({ event: "stopped", aborted, unfinished }, "stopped");
        log.flush();
      })();
      return stopping;
    },
  };
}

/** Runs until SIGTERM or SIGINT; SIGHUP reloads. Resolves with the exit code. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  // Before anything awaits: SIGHUP's default action would end the process.
  let daemon: Daemon | undefined;
  let stopSignal: NodeJS.Signals | undefined;
  let wake: () => void = () => {};
  const onHup = () => daemon?.reload();
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

const LEVEL: Record<Verdict, "info" | "warn" | "error"> = {
  healthy: "info",
  degraded: "warn",
  failing: "error",
};

/** Findings at debug, one summary at the verdict's level, and a line when verdict or cause change. */
export function logRun(log: Logger, report: TargetReport, before: TargetReport | undefined): void {
  const target = report.name;
  if (log.isLevelEnabled("debug")) {
    for (const f of report.findings) {
      const where = `${f.address ? ` ${f.address}` : ""}${f.stage ? ` ${f.stage}` : ""}`;
      log.debug({ event: "finding", target, ...f }, `${target}: ${f.code}${where}`);
    }
  }
  const cause = report.primaryCause;
  const level = LEVEL[report.verdict];
  log[level](
    {
      event: "run",
      target,
      verdict: report.verdict,
      primaryCause: cause?.code ?? null,
      layer: cause?.layer ?? null,
      findings: report.findings.length,
      failed: report.findings.filter((f) => f.status === "fail").length,
      durationMs: report.durationMs,
    },
    `${target}: ${report.verdict}${cause ? ` (${cause.code})` : ""}`,
  );
  const fromCause = before?.primaryCause?.code ?? null;
  const toCause = cause?.code ?? null;
  if (before && before.verdict === report.verdict && fromCause === toCause) return;
  log[level](
    {
      event: "verdict_change",
      target,
      from: before?.verdict ?? null,
      to: report.verdict,
      fromCause,
      toCause,
      message: cause?.message,
      hint: cause?.hint,
    },
    `${target}: ${before?.verdict ?? "(first run)"} -> ${report.verdict}${toCause ? `: ${toCause}` : ""}`,
  );
}

/** A first run, or another verdict or primary cause than the run before. */
function changed(before: TargetReport | undefined, now: TargetReport): boolean {
  if (!before) return true;
  return (
    before.verdict !== now.verdict ||
    (before.primaryCause?.code ?? null) !== (now.primaryCause?.code ?? null)
  );
}

function reportDocument(targets: Target[], last: Map<string, LastRun>) {
  return {
    schemaVersion: 1,
    tool: { name: "apigw-diag", version: version() },
    generatedAt: new Date().toISOString(),
    targets: targets.flatMap((t) => {
      const run = last.get(t.name);
      return run ? [{ ...run.report, startedAt: run.startedAt, finishedAt: run.finishedAt }] : [];
    }),
    pending: targets.filter((t) => !last.has(t.name)).map((t) => t.name),
  };
}

function byName(targets: Target[]): Map<string, Target> {
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

function sameListen(a: Settings, b: Settings): boolean {
  return (
    a.daemon.listen.host === b.daemon.listen.host && a.daemon.listen.port === b.daemon.listen.port
  );
}
