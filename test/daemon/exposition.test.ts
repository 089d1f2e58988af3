// The exposition written in pieces must be prom-client's `registry.metrics()` byte for byte: it
// reads prom-client's histogram storage, and these tests are what pins that reading.
import { describe, expect, it } from "vitest";
import { DaemonMetrics } from "../../src/daemon/metrics.js";
import { PIECE_CHARS, exposition } from "../../src/daemon/exposition.js";
import { Counter, Gauge, Histogram, Registry } from "../../src/daemon/prom.js";
import type { Finding, TargetReport, Verdict } from "../../src/types.js";

const NAMES = ['quote"d', "back\\slash", "new\nline", 'all\\"\n"\\', "ünï", "sp ace", "a,b=c{}"];

/** A reproducible sequence in [0, 1). */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Milliseconds in every bucket of the phase histogram, beyond its last, and exactly on bounds. */
function duration(random: () => number): number {
  const r = random();
  if (r < 0.1) return [5, 10, 250, 1000, 30_000][Math.floor(random() * 5)]!;
  if (r < 0.15) return 40_000 + random() * 1000;
  if (r < 0.2) return 0;
  return random() ** 3 * 12_000;
}

function targetReport(name: string, random: () => number): TargetReport {
  const timings = () => ({
    dns: duration(random),
    connect: duration(random),
    tls: duration(random),
    ttfb: duration(random),
    total: duration(random),
  });
  const common = { message: "m", hint: "h" };
  const findings: Finding[] = [
    { ...common, layer: "dns", code: "DNS_OK", status: "pass", timings: timings(), evidence: {} },
  ];
  for (const address of ["10.0.0.1", "10.0.0.2"]) {
    const refused = random() < 0.2;
    findings.push({
      ...common,
      layer: "tcp",
      code: refused ? "TCP_REFUSED" : "TCP_OK",
      status: refused ? "fail" : "pass",
      address,
      timings: timings(),
      evidence: { port: 443 },
    } as Finding);
    if (refused) continue;
    findings.push({
      ...common,
      layer: "tls",
      code: "TLS_OK",
      status: "pass",
      address,
      timings: timings(),
      evidence: { servername: "s" },
    } as Finding);
    for (const stage of ["prod", "v2"])
      findings.push({
        ...common,
        layer: "http",
        code: "HTTP_OK",
        status: "pass",
        address,
        stage,
        timings: timings(),
        evidence: { request: "GET /" },
      } as Finding);
  }
  const verdicts: Verdict[] = ["healthy", "degraded", "failing"];
  return {
    name,
    endpoint: "vpce-0123456789abcdef-abcd1234.execute-api.us-east-1.vpce.amazonaws.com",
    apiId: "a1b2c3d4e5",
    mode: "header",
    stages: ["prod", "v2"],
    addresses: ["10.0.0.1", "10.0.0.2"],
    verdict: verdicts[Math.floor(random() * 3)]!,
    primaryCause: null,
    skipped: [],
    unfinished: [],
    insecure: false,
    comparisonRequests: 0,
    durationMs: Math.round(random() * 5000),
    findings,
  };
}

async function joined(registry: Registry): Promise<string> {
  return [...(await exposition(registry))].join("");
}

describe("the exposition in pieces", () => {
  it("is registry.metrics() byte for byte for the daemon's metrics, run after run", async () => {
    const random = seeded(42);
    const m = new DaemonMetrics({ processMetrics: false });
    const names = [...NAMES, ...Array.from({ length: 120 }, (_, i) => `target-${i}`)];
    for (let run = 0; run < 6; run++) {
      for (const name of names) {
        if (random() < 0.05) m.recordError(name);
        else m.record(targetReport(name, random), 1_700_000_000_000 + run * 5_123 + 0.5);
      }
      if (run === 3) m.retain(names.filter((_, i) => i % 7 !== 0));
      const expected = await m.registry.metrics();
      const pieces = [...(await m.render())];
      expect(pieces.join("")).toBe(expected);
      expect(pieces.length).toBeGreaterThan(10);
    }
    const text = await m.registry.metrics();
    for (const phase of ["dns", "connect", "tls", "ttfb", "total"])
      expect(text).toContain(`phase="${phase}"`);
    expect(text).toContain('target="new\\nline"');
    expect(text).toContain('target="all\\\\\\"\\n\\"\\\\"');
  });

  it("writes pieces of bounded size", async () => {
    const random = seeded(7);
    const m = new DaemonMetrics({ processMetrics: false });
    for (let i = 0; i < 100; i++) m.record(targetReport(`t${i}`, random), 1_700_000_000_000);
    const pieces = [...(await m.render())];
    // A piece ends after the series or the metric that crossed the bound: the bound plus one
    // histogram series (15 lines) at the most, for every metric of the daemon but the gauges.
    const histogramPieces = pieces.filter((p) => p.includes("apigw_diag_phase_duration_seconds"));
    expect(histogramPieces.length).toBeGreaterThan(20);
    for (const p of histogramPieces) expect(p.length).toBeLessThan(PIECE_CHARS + 4_096);
  });

  it("is registry.metrics() for histograms of every shape, and for empty registries", async () => {
    const registry = new Registry();
    const registers = [registry];
    expect(await joined(registry)).toBe(await registry.metrics());

    new Histogram({ name: "empty_seconds", help: "no series yet", registers });
    const plain = new Histogram({
      name: "plain_seconds",
      help: 'help with \\ and\nnewline and "quotes"',
      buckets: [0.1, 1, 10],
      registers,
    });
    plain.observe(0.1);
    plain.observe(0.30000000000000004);
    plain.observe(1e21);
    const labelled = new Histogram({
      name: "labelled_bytes",
      help: "labels in either order, numbers as values",
      labelNames: ["a", "b"],
      buckets: [1, 2.5, 1e6],
      registers,
    });
    labelled.observe({ b: "x", a: "y" }, 2);
    labelled.observe({ a: "y", b: "x" }, 3);
    labelled.observe({ a: 5, b: '\\\n"' } as never, 0);
    labelled.observe({ a: "only a" }, 7e-7);
    labelled.zero({ a: "zeroed", b: "" });
    labelled.observe({ a: "gone", b: "" }, 1);
    labelled.remove({ a: "gone", b: "" });
    let collects = 0;
    new Histogram({
      name: "collected_seconds",
      help: "observed at scrape time",
      labelNames: ["kind"],
      registers,
      collect() {
        collects++;
        this.reset();
        this.observe({ kind: "major" }, 0.001);
        this.observe({ kind: "minor" }, 0.5);
      },
    });
    new Histogram({
      name: "async_collected_seconds",
      help: "observed at scrape time, later",
      registers,
      async collect() {
        await new Promise((r) => setTimeout(r, 1));
        this.reset();
        this.observe(0.02);
      },
    });
    const odd = new Gauge({
      name: "odd_values",
      help: "NaN and infinities",
      labelNames: ["v"],
      registers,
    });
    odd.set({ v: "nan" }, NaN);
    odd.set({ v: "inf" }, Infinity);
    odd.set({ v: "-inf" }, -Infinity);
    new Counter({ name: "things_total", help: "a counter", registers }).inc(3);
    new Gauge({ name: "bare", help: "no labels, never set", registers });
    const byKind = new Counter({
      name: "kinds_total",
      help: "labelled, one series removed",
      labelNames: ["kind", "n"],
      registers,
    });
    byKind.inc({ n: 1, kind: 'a"b' } as never, 0.1);
    byKind.inc({ kind: "gone" });
    byKind.remove({ kind: "gone" });
    byKind.inc({ kind: "zero" }, 0);

    for (let round = 1; round <= 3; round++) {
      const expected = await registry.metrics();
      expect(await joined(registry)).toBe(expected);
      expect(collects).toBe(2 * round);
    }
    expect(await registry.metrics()).toContain(
      'collected_seconds_bucket{le="+Inf",kind="minor"} 1',
    );
  });

  it("leaves registries with default labels or OpenMetrics to prom-client", async () => {
    const labelled = new Registry();
    labelled.setDefaultLabels({ host: 'h"1' });
    const open = new Registry();
    // prom-client's types bind a registry to its content type when it is made.
    (open as unknown as { setContentType(t: string): void }).setContentType(
      Registry.OPENMETRICS_CONTENT_TYPE,
    );
    for (const registry of [labelled, open]) {
      const h = new Histogram({
        name: "h_seconds",
        help: "h",
        labelNames: ["x"],
        registers: [registry],
      });
      h.observe({ x: "1" }, 0.2);
      new Counter({ name: "c_total", help: "c", registers: [registry] }).inc();
      expect(await joined(registry)).toBe(await registry.metrics());
    }
  });
});
