// GET /probe?module=NAME&target=HOST: one diagnosis on demand, answered in Prometheus text, the
// way blackbox_exporter serves its multi-target pattern. Each answer has its own registry, so a
// probe leaves nothing behind in /metrics; the number running at once is bounded.
import type { LimitFunction } from "p-limit";
import type { Logger } from "pino";
import { Gauge, Registry } from "./prom.js";
import type { ProbeModules } from "../config/modules.js";
import type { PreparedTarget } from "../config/prepare.js";
import type { RunOptions } from "../diagnose/run.js";
import { now } from "../probes/context.js";
import { UsageError, type TargetReport } from "../types.js";
import { reportGauges } from "./metrics.js";

/** Subtracted from Prometheus' scrape timeout so the answer arrives in time (blackbox's default). */
export const TIMEOUT_OFFSET_S = 0.5;
/** Without the header (a person with curl), as blackbox_exporter: 120 s. */
export const DEFAULT_SCRAPE_TIMEOUT_S = 120;
export const SCRAPE_TIMEOUT_HEADER = "x-prometheus-scrape-timeout-seconds";

export interface ProbeRequest {
  query: URLSearchParams;
  /** The scrape timeout header's value, if sent. */
  scrapeTimeout: string | undefined;
  /** Aborted when the client goes away: the diagnosis stops with it. */
  signal: AbortSignal;
}

export interface ProbeReply {
  status: number;
  contentType: string;
  body: string;
}

export interface ProbeDeps {
  /** Read at every request, so a reload's modules and limits apply to the next probe. */
  current(): { modules: ProbeModules; maxConcurrentProbes: number };
  run(target: PreparedTarget, opts: RunOptions): Promise<TargetReport>;
  /** The daemon's connection limit: probes and scheduled runs share it. */
  limit: LimitFunction;
  log: Logger;
}

export class Prober {
  private running = 0;

  constructor(private readonly deps: ProbeDeps) {}

  async handle(req: ProbeRequest): Promise<ProbeReply> {
    const { modules, maxConcurrentProbes } = this.deps.current();
    let target: PreparedTarget;
    let budgetMs: number;
    try {
      target = modules.target(single(req.query, "module"), single(req.query, "target"));
      budgetMs = budget(req.scrapeTimeout);
    } catch (err) {
      if (err instanceof UsageError) return text(400, err.message);
      throw err;
    }
    if (this.running >= maxConcurrentProbes)
      return text(503, `too many /probe requests running at once (${maxConcurrentProbes})`);
    this.running++;
    try {
      return await this.diagnose(target, budgetMs, req.signal);
    } finally {
      this.running--;
    }
  }

  private async diagnose(
    target: PreparedTarget,
    budgetMs: number,
    gone: AbortSignal,
  ): Promise<ProbeReply> {
    const deadline = AbortSignal.timeout(budgetMs);
    const started = now();
    const report = await this.deps.run(target, {
      signal: AbortSignal.any([deadline, gone]),
      limit: this.deps.limit,
    });
    const seconds = (now() - started) / 1000;
    const timedOut = deadline.aborted;
    this.deps.log[timedOut ? "warn" : "debug"](
      {
        event: "probe",
        target: target.name,
        verdict: report.verdict,
        primaryCause: report.primaryCause?.code ?? null,
        durationMs: Math.round(seconds * 1000),
        deadlineExceeded: timedOut,
      },
      `/probe ${target.name}: ${report.verdict}${timedOut ? " (scrape timeout reached)" : ""}`,
    );
    const registry = probeRegistry(report, seconds, timedOut);
    return { status: 200, contentType: registry.contentType, body: await registry.metrics() };
  }
}

/** blackbox's two series, then the daemon's gauges for this one diagnosis. */
export function probeRegistry(report: TargetReport, seconds: number, timedOut: boolean): Registry {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: "probe_success",
    help: "1 when every stage answered as expected through every endpoint address (verdict healthy), else 0",
    registers,
  }).set(report.verdict === "healthy" && !timedOut ? 1 : 0);
  new Gauge({
    name: "probe_duration_seconds",
    help: "How long the diagnosis took",
    registers,
  }).set(seconds);
  new Gauge({
    name: "apigw_diag_probe_deadline_exceeded",
    help: "1 when the scrape timeout ran out before the diagnosis finished: its findings are partial",
    registers,
  }).set(timedOut ? 1 : 0);
  reportGauges(registers, () => [{ report, finishedAtMs: Date.now() }]);
  return registry;
}

/** The diagnosis' budget: the scrape timeout less the offset, as blackbox_exporter computes it. */
export function budget(header: string | undefined): number {
  let scrape = DEFAULT_SCRAPE_TIMEOUT_S;
  if (header !== undefined) {
    scrape = Number(header);
    if (header.trim() === "" || !Number.isFinite(scrape) || scrape <= 0)
      throw new UsageError(`X-Prometheus-Scrape-Timeout-Seconds: not a positive number of seconds`);
  }
  scrape = Math.min(scrape, DEFAULT_SCRAPE_TIMEOUT_S);
  // A scrape timeout shorter than twice the offset keeps half of itself rather than nothing.
  const seconds = Math.max(scrape - TIMEOUT_OFFSET_S, scrape / 2);
  return Math.round(seconds * 1000);
}

function single(query: URLSearchParams, name: string): string {
  const values = query.getAll(name);
  if (values.length > 1)
    throw new UsageError(`${name}: given ${values.length} times, give it once`);
  if (name === "module" && values.length === 0)
    throw new UsageError("module: missing (give ?module=NAME&target=HOST)");
  return values[0] ?? "";
}

const text = (status: number, line: string): ProbeReply => ({
  status,
  contentType: "text/plain; charset=utf-8",
  body: `${line}\n`,
});
