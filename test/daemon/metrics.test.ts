import { describe, expect, it } from "vitest";
import { DaemonMetrics, MAX_ADDRESSES_PER_TARGET } from "../../src/daemon/metrics.js";
import type { Finding, FindingCode, Layer, TargetReport, Verdict } from "../../src/types.js";
import {
  hasPromtool,
  parseMetrics,
  pick,
  promtoolCheckMetrics,
  requirePromtool,
  valueOf,
} from "./helpers.js";

function finding(
  layer: Layer,
  code: FindingCode,
  where: { address?: string; stage?: string } = {},
): Finding {
  const status = code.endsWith("_OK") ? "pass" : "fail";
  const timings = { dns: 2, connect: 3, tls: 5, ttfb: 7, total: 17 };
  const common = { status, ...where, timings, message: "m", hint: "h" } as const;
  // Metrics read the layer and the code only: each layer's evidence at its smallest.
  const c = code as never;
  if (layer === "dns") return { ...common, layer, code: c, evidence: {} };
  if (layer === "path") return { ...common, layer, code: c, evidence: {} };
  if (layer === "tcp") return { ...common, layer, code: c, evidence: { port: 443 } };
  if (layer === "tls") return { ...common, layer, code: c, evidence: { servername: "s" } };
  if (layer === "aws") return { ...common, layer, code: c, evidence: {} };
  return { ...common, layer, code: c, evidence: { request: "GET /" } };
}

function report(name: string, verdict: Verdict, findings: Finding[]): TargetReport {
  return {
    name,
    endpoint: "vpce-0123456789abcdef-abcd1234.execute-api.us-east-1.vpce.amazonaws.com",
    apiId: "a1b2c3d4e5",
    mode: "header",
    stages: ["prod", "v2"],
    addresses: [
      ...new Set(findings.flatMap((f) => (f.layer !== "dns" && f.address ? [f.address] : []))),
    ],
    verdict,
    primaryCause: null,
    skipped: [],
    unfinished: [],
    insecure: false,
    comparisonRequests: 0,
    durationMs: 1234,
    findings,
  };
}

/** One address fine, the other refusing: prod and v2 work through .1 only. */
const HALF = report("orders", "degraded", [
  finding("dns", "DNS_OK"),
  finding("tcp", "TCP_OK", { address: "10.0.0.1" }),
  finding("tls", "TLS_OK", { address: "10.0.0.1" }),
  finding("http", "HTTP_OK", { address: "10.0.0.1", stage: "prod" }),
  finding("http", "HTTP_OK", { address: "10.0.0.1", stage: "v2" }),
  finding("tcp", "TCP_REFUSED", { address: "10.0.0.2" }),
  finding("tcp", "TCP_REFUSED", { address: "10.0.0.2", stage: "v2" }),
]);

const ALL_OK = report("orders", "healthy", [
  finding("dns", "DNS_OK"),
  ...["10.0.0.1", "10.0.0.2"].flatMap((address) => [
    finding("tcp", "TCP_OK", { address }),
    finding("tls", "TLS_OK", { address }),
    finding("http", "HTTP_OK", { address, stage: "prod" }),
    finding("http", "HTTP_OK", { address, stage: "v2" }),
  ]),
]);

async function scrape(m: DaemonMetrics) {
  const text = [...(await m.render())].join("");
  return { text, samples: parseMetrics(text) };
}

describe("daemon metrics", () => {
  it("exposes success per stage and address, the verdict and the finding codes", async () => {
    const m = new DaemonMetrics({ processMetrics: false });
    m.record(HALF, 1_700_000_000_000);
    const { samples } = await scrape(m);
    const success = (stage: string, address: string) =>
      valueOf(samples, "apigw_diag_probe_success", { target: "orders", stage, address });
    expect([
      success("prod", "10.0.0.1"),
      success("v2", "10.0.0.1"),
      success("prod", "10.0.0.2"),
      success("v2", "10.0.0.2"),
    ]).toEqual([1, 1, 0, 0]);
    const verdict = (v: string) =>
      valueOf(samples, "apigw_diag_target_verdict", { target: "orders", verdict: v });
    expect([verdict("healthy"), verdict("degraded"), verdict("failing")]).toEqual([0, 1, 0]);
    expect(
      valueOf(samples, "apigw_diag_finding", {
        target: "orders",
        layer: "tcp",
        code: "TCP_REFUSED",
      }),
    ).toBe(2);
    expect(
      valueOf(samples, "apigw_diag_finding", { target: "orders", layer: "http", code: "HTTP_OK" }),
    ).toBe(2);
    expect(valueOf(samples, "apigw_diag_last_run_timestamp_seconds", { target: "orders" })).toBe(
      1_700_000_000,
    );
    expect(valueOf(samples, "apigw_diag_run_duration_seconds", { target: "orders" })).toBe(1.234);
    expect(
      valueOf(samples, "apigw_diag_runs_total", { target: "orders", verdict: "degraded" }),
    ).toBe(1);
  });

  it("observes each phase once per measuring finding, in seconds", async () => {
    const m = new DaemonMetrics({ processMetrics: false });
    m.record(HALF, Date.now());
    const { samples } = await scrape(m);
    const count = (phase: string) =>
      valueOf(samples, "apigw_diag_phase_duration_seconds_count", { target: "orders", phase });
    // dns: 1 resolver; connect: 3 tcp findings; tls: 1; ttfb: 2 requests; total: 2 http + 2 refused paths.
    expect(["dns", "connect", "tls", "ttfb", "total"].map(count)).toEqual([1, 3, 1, 2, 4]);
    expect(
      valueOf(samples, "apigw_diag_phase_duration_seconds_sum", { target: "orders", phase: "tls" }),
    ).toBeCloseTo(0.005);
    const buckets = pick(samples, "apigw_diag_phase_duration_seconds_bucket", { phase: "dns" });
    expect(buckets.at(-1)?.labels.le).toBe("+Inf");
  });

  it("replaces the previous run's gauges: codes that went away disappear", async () => {
    const m = new DaemonMetrics({ processMetrics: false });
    m.record(HALF, Date.now());
    m.record(ALL_OK, Date.now());
    const { samples } = await scrape(m);
    expect(pick(samples, "apigw_diag_finding", { code: "TCP_REFUSED" })).toEqual([]);
    expect(pick(samples, "apigw_diag_probe_success").every((s) => s.value === 1)).toBe(true);
    expect(valueOf(samples, "apigw_diag_target_verdict", { verdict: "healthy" })).toBe(1);
    // Counters keep counting across runs.
    expect(valueOf(samples, "apigw_diag_runs_total", { verdict: "degraded" })).toBe(1);
    expect(valueOf(samples, "apigw_diag_runs_total", { verdict: "healthy" })).toBe(1);
  });

  it("gives each stage a failing series with an empty address when DNS gave none", async () => {
    const m = new DaemonMetrics({ processMetrics: false });
    m.record(report("orders", "failing", [finding("dns", "DNS_NXDOMAIN")]), Date.now());
    const { samples } = await scrape(m);
    expect(pick(samples, "apigw_diag_probe_success").map((s) => [s.labels, s.value])).toEqual([
      [{ target: "orders", stage: "prod", address: "", mode: "header" }, 0],
      [{ target: "orders", stage: "v2", address: "", mode: "header" }, 0],
    ]);
  });

  it(`labels at most ${MAX_ADDRESSES_PER_TARGET} addresses per target`, async () => {
    const m = new DaemonMetrics({ processMetrics: false });
    const many = Array.from({ length: 40 }, (_, i) => `10.0.1.${i}`);
    m.record(
      report(
        "orders",
        "failing",
        many.map((address) => finding("tcp", "TCP_TIMEOUT", { address })),
      ),
      Date.now(),
    );
    const { samples } = await scrape(m);
    const addresses = new Set(
      pick(samples, "apigw_diag_probe_success").map((s) => s.labels.address),
    );
    expect(addresses.size).toBe(MAX_ADDRESSES_PER_TARGET);
  });

  it("forgets every series of a target removed by a reload", async () => {
    const m = new DaemonMetrics({ processMetrics: false });
    m.record(HALF, Date.now());
    m.record({ ...ALL_OK, name: "billing" }, Date.now());
    m.retain(["billing"]);
    const { samples } = await scrape(m);
    const targets = new Set(
      samples.filter((s) => s.name.startsWith("apigw_diag_")).map((s) => s.labels.target),
    );
    expect([...targets]).toEqual(["billing"]);
  });

  it("includes prom-client's process metrics", async () => {
    const m = new DaemonMetrics();
    m.record(HALF, Date.now());
    const { samples } = await scrape(m);
    for (const name of ["process_cpu_seconds_total", "process_resident_memory_bytes"])
      expect(pick(samples, name).length).toBe(1);
  });

  it.runIf(hasPromtool || requirePromtool)("passes promtool check metrics", async () => {
    expect(hasPromtool, "promtool is required when CI=true (Debian package prometheus)").toBe(true);
    const m = new DaemonMetrics();
    m.record(HALF, Date.now());
    m.record({ ...ALL_OK, name: "billing" }, Date.now());
    m.record(report("dnsless", "failing", [finding("dns", "DNS_NXDOMAIN")]), Date.now());
    const { status, output } = promtoolCheckMetrics((await scrape(m)).text);
    expect(output).toBe("");
    expect(status).toBe(0);
  });
});
