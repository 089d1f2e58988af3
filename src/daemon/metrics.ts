// The daemon's Prometheus metrics, named after blackbox_exporter's conventions. Alert rules and
// dashboards are written against these names and labels: change them only with a note.
//
// Gauges are computed at scrape time from the last report of each target, so a code, address or
// target that went away disappears with the run (or reload) that no longer sees it. Label values
// are bounded: target names and stages come from the config, addresses from DNS (capped per
// target), codes and layers from the fixed vocabulary; error text never becomes a label.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "./prom.js";
import { exposition } from "./exposition.js";
import type { Finding, TargetReport, Timings, Verdict } from "../types.js";
import { MAX_ADDRESSES_PER_TARGET, matrix, resolvedAddresses } from "./cells.js";

export { MAX_ADDRESSES_PER_TARGET, resolvedAddresses };

export const VERDICTS: readonly Verdict[] = ["healthy", "degraded", "failing"];
export const PHASES = ["dns", "connect", "tls", "ttfb", "total"] as const;
export type Phase = (typeof PHASES)[number];

const LINT_FAILING_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

const PHASE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the last completed run of a target left behind. */
export interface Latest {
  report: TargetReport;
  finishedAtMs: number;
}

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly latest = new Map<string, Latest>();
  /** Targets that have counter or histogram series (those outlive a target's last report). */
  private readonly counted = new Set<string>();
  private readonly runs: Counter<"target" | "verdict">;
  private readonly runErrors: Counter<"target">;
  private readonly phases: Histogram<"target" | "phase">;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    reportGauges(registers, () => this.latest.values());
    this.runs = new Counter({
      name: "apigw_diag_runs_total",
      help: "Completed runs per target, by verdict",
      labelNames: ["target", "verdict"],
      registers,
    });
    this.runErrors = new Counter({
      name: "apigw_diag_run_errors_total",
      help: "Runs per target that ended in an internal error instead of a report",
      labelNames: ["target"],
      registers,
    });
    this.phases = new Histogram({
      name: "apigw_diag_phase_duration_seconds",
      help: "Duration of each phase: dns per resolver, connect and tls per connection, ttfb and total per request, total also per failed tcp or tls finding",
      labelNames: ["target", "phase"],
      buckets: PHASE_BUCKETS,
      registers,
    });
    if (opts.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters fail `promtool check metrics`; the same numbers stay
      // available per type in nodejs_active_handles, _requests and _resources.
      for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    }
  }

  /** Makes every series of every target reflect this run: the previous run's are replaced. */
  record(report: TargetReport, finishedAtMs: number): void {
    this.latest.set(report.name, { report, finishedAtMs });
    this.counted.add(report.name);
    this.runs.inc({ target: report.name, verdict: report.verdict });
    for (const [phase, seconds] of phaseSamples(report.findings)) {
      this.phases.observe({ target: report.name, phase }, seconds);
    }
  }

  /** A run that threw (a bug): it left no report, so nothing else of the target changes. */
  recordError(name: string): void {
    this.counted.add(name);
    this.runErrors.inc({ target: name });
  }

  /** Keeps only these targets (after a reload): the others' series go, counters included. */
  retain(names: Iterable<string>): void {
    const keep = new Set(names);
    for (const name of [...this.latest.keys()]) if (!keep.has(name)) this.latest.delete(name);
    for (const name of [...this.counted]) {
      if (keep.has(name)) continue;
      for (const verdict of VERDICTS) this.runs.remove({ target: name, verdict });
      for (const phase of PHASES) this.phases.remove({ target: name, phase });
      this.runErrors.remove({ target: name });
      this.counted.delete(name);
    }
  }

  /** The same text as `registry.metrics()`, in pieces: see exposition.ts. */
  render(): Promise<Iterable<string>> {
    return exposition(this.registry);
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * The gauges read from last reports, registered in `registers`: the daemon's registry (every
 * target's last run) and each /probe answer's own registry (that one diagnosis).
 */
export function reportGauges(registers: Registry[], latest: () => Iterable<Latest>): void {
  new Gauge({
    name: "apigw_diag_probe_success",
    help: "1 when the stage answered as expected through the address in the last run, else 0 (address is empty when DNS gave no usable address)",
    labelNames: ["target", "stage", "address", "mode"],
    registers,
    collect() {
      this.reset();
      for (const { report } of latest()) {
        for (const s of probeSuccess(report)) this.set(s.labels, s.value);
      }
    },
  });
  new Gauge({
    name: "apigw_diag_address_failure",
    help: "1 for the finding that stopped the path through this address to this stage in the last run (address is empty when DNS gave no usable address; az is empty when no zonal name gave the address's Availability Zone)",
    labelNames: ["target", "stage", "address", "az", "layer", "code"],
    registers,
    collect() {
      this.reset();
      for (const { report } of latest()) {
        for (const s of addressFailures(report)) this.set(s, 1);
      }
    },
  });
  new Gauge({
    name: "apigw_diag_target_verdict",
    help: "1 for the target's verdict in the last run (healthy, degraded or failing), 0 for the others",
    labelNames: ["target", "verdict"],
    registers,
    collect() {
      this.reset();
      for (const { report } of latest()) {
        for (const v of VERDICTS)
          this.set({ target: report.name, verdict: v }, v === report.verdict ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: "apigw_diag_finding",
    help: "Findings with this code in the target's last run",
    labelNames: ["target", "layer", "code"],
    registers,
    collect() {
      this.reset();
      for (const { report } of latest()) {
        for (const [key, n] of countCodes(report.findings)) {
          const [layer = "", code = ""] = key.split(" ");
          this.set({ target: report.name, layer, code }, n);
        }
      }
    },
  });
  new Gauge({
    name: "apigw_diag_last_run_timestamp_seconds",
    help: "When the target's last run finished, in seconds since the Unix epoch",
    labelNames: ["target"],
    registers,
    collect() {
      this.reset();
      for (const { report, finishedAtMs } of latest())
        this.set({ target: report.name }, finishedAtMs / 1000);
    },
  });
  new Gauge({
    name: "apigw_diag_run_duration_seconds",
    help: "How long the target's last run took",
    labelNames: ["target"],
    registers,
    collect() {
      this.reset();
      for (const { report } of latest())
        this.set({ target: report.name }, report.durationMs / 1000);
    },
  });
}

interface Sample {
  labels: { target: string; stage: string; address: string; mode: string };
  value: 0 | 1;
}

/** One series per stage x resolved address; without any address, one per stage with address "". */
export function probeSuccess(report: TargetReport): Sample[] {
  return matrix(report).cells.map((c) => ({
    labels: { target: report.name, stage: c.stage, address: c.address, mode: report.mode },
    value: c.ok ? 1 : 0,
  }));
}

export interface FailureLabels {
  target: string;
  stage: string;
  address: string;
  /** The address's Availability Zone (addressInfo), "" when unknown: alerts group by it. */
  az: string;
  layer: string;
  code: string;
}

/** One series per path that failed, naming the code that stopped it: at most addresses x stages. */
export function addressFailures(report: TargetReport): FailureLabels[] {
  const azs = new Map(report.addressInfo?.map((i) => [i.address, i.az ?? ""]));
  return matrix(report).cells.flatMap(({ stage, address, failure }) =>
    failure
      ? [
          {
            target: report.name,
            stage,
            address,
            az: azs.get(address) ?? "",
            layer: failure.layer,
            code: failure.code,
          },
        ]
      : [],
  );
}

function countCodes(findings: Finding[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of findings) {
    const key = `${f.layer} ${f.code}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Each phase is observed once per finding of the layer that measured it, so a connection shared
 * by several stages is not counted once per stage; `total` is observed for every http finding
 * and every failed tcp or tls finding (where a path stopped: once per address, plus once per
 * stage that failed differently, as the diagnosis reports them).
 */
export function phaseSamples(findings: Finding[]): [Phase, number][] {
  const out: [Phase, number][] = [];
  const add = (phase: Phase, ms: number | undefined) => {
    if (ms !== undefined && Number.isFinite(ms) && ms >= 0) out.push([phase, ms / 1000]);
  };
  for (const f of findings) {
    const t: Timings = f.timings;
    if (f.layer === "dns") add("dns", t.dns);
    if (f.layer === "tcp") add("connect", t.connect);
    if (f.layer === "tls") add("tls", t.tls);
    if (f.layer === "http") add("ttfb", t.ttfb);
    const lastOfPath =
      f.layer === "http" || (f.status === "fail" && f.layer !== "dns" && f.layer !== "aws");
    if (lastOfPath) add("total", t.total);
  }
  return out;
}
