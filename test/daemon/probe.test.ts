// /probe?module=&target= against the simulator: blackbox's multi-target pattern, the targets it
// refuses (without sending a packet), the scrape timeout, the bound on probes at once, and the
// per-address failure code. Loopback only; the simulator's own DNS.
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/file.js";
import { resolveSettings, type Settings } from "../../src/config/load.js";
import { startDaemon, type Daemon, type DaemonOptions } from "../../src/daemon/index.js";
import { budget } from "../../src/daemon/probe.js";
import { SERVER_LIMITS } from "../../src/daemon/server.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import type { TargetReport } from "../../src/types.js";
import {
  hasPromtool,
  parseMetrics,
  pick,
  promtoolCheckMetrics,
  requirePromtool,
  simDaemon,
  simulatorConfig,
  valueOf,
} from "./helpers.js";
import { second } from "../helpers.js";

const silent = pino({ level: "silent" });

function settingsWith(
  sim: Simulator,
  extra: string,
  opts: { timeout?: string; daemon?: string } = {},
): Settings {
  const base = simulatorConfig(sim, { interval: "1h", timeout: opts.timeout }).replace(
    "  listen: 127.0.0.1:0\n",
    `  listen: 127.0.0.1:0\n${opts.daemon ?? ""}`,
  );
  return resolveSettings({}, {}, parseConfigText(`${base}${extra}`, "test.yaml"));
}

const MODULES = (sim: Simulator, more = "") =>
  [
    `modules:`,
    `  sim: { apiId: ${sim.apiId}, stages: [prod, v2], port: ${sim.port} }`,
    `  shop: { basePaths: [shop], port: ${sim.port}, domains: [shop.example.com] }`,
    more,
  ].join("\n");

async function get(d: Daemon, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${d.port}${path}`, { headers });
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

const probePath = (sim: Simulator, module = "sim") =>
  `/probe?module=${module}&target=${encodeURIComponent(sim.endpoint)}`;

describe("/probe against the simulator", () => {
  let sim: Simulator;
  let daemon: Daemon | undefined;
  const start = async (settings: Settings, over: Partial<DaemonOptions> = {}) => {
    daemon = await startDaemon({
      settings,
      log: silent,
      processMetrics: false,
      ...simDaemon(sim),
      ...over,
    });
    return daemon;
  };
  beforeAll(async () => {
    sim = await startSimulator({
      stages: { prod: "ok", v2: "ok" },
      domains: [{ name: "shop.example.com", associated: true, basePaths: { shop: "prod" } }],
    });
  });
  afterAll(() => sim.close());
  afterEach(async () => {
    await daemon?.stop("test");
    daemon = undefined;
    sim.setFaults({});
  });

  it("answers probe_success, probe_duration_seconds and the apigw_diag_* series of one diagnosis", async () => {
    const d = await start(settingsWith(sim, MODULES(sim)));
    const res = await get(d, probePath(sim), { "X-Prometheus-Scrape-Timeout-Seconds": "10" });
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseMetrics(res.body);
    expect(valueOf(samples, "probe_success", {})).toBe(1);
    const duration = valueOf(samples, "probe_duration_seconds", {});
    expect(duration).toBeGreaterThan(0);
    expect(duration).toBeLessThan(10);
    expect(valueOf(samples, "apigw_diag_probe_deadline_exceeded", {})).toBe(0);
    for (const address of sim.addresses)
      for (const stage of ["prod", "v2"])
        expect(
          valueOf(samples, "apigw_diag_probe_success", { target: sim.endpoint, stage, address }),
        ).toBe(1);
    expect(
      valueOf(samples, "apigw_diag_target_verdict", { target: sim.endpoint, verdict: "healthy" }),
    ).toBe(1);
    expect(pick(samples, "apigw_diag_address_failure")).toEqual([]);
    // A fresh registry per answer: nothing of the daemon's own (no counters, no process metrics).
    expect(pick(samples, "apigw_diag_runs_total")).toEqual([]);
    expect(samples.some((s) => s.name.startsWith("process_"))).toBe(false);
    // ...and the probe leaves nothing in /metrics.
    const metrics = parseMetrics((await get(d, "/metrics")).body);
    expect(pick(metrics, "apigw_diag_probe_success", { target: sim.endpoint })).toEqual([]);

    if (hasPromtool || requirePromtool) {
      expect(hasPromtool, "promtool is required when CI=true").toBe(true);
      const { status, output } = promtoolCheckMetrics(res.body);
      expect(output).toBe("");
      expect(status).toBe(0);
    }
  });

  it("names a refusing address and its code, per stage, with probe_success 0", async () => {
    const d = await start(settingsWith(sim, MODULES(sim)));
    sim.setFaults({ address: { [second(sim)]: "refuse" } });
    const samples = parseMetrics((await get(d, probePath(sim))).body);
    expect(valueOf(samples, "probe_success", {})).toBe(0);
    expect(
      valueOf(samples, "apigw_diag_target_verdict", { target: sim.endpoint, verdict: "degraded" }),
    ).toBe(1);
    const failures = pick(samples, "apigw_diag_address_failure").map((s) => [s.labels, s.value]);
    expect(failures).toEqual(
      ["prod", "v2"].map((stage) => [
        {
          target: sim.endpoint,
          stage,
          address: second(sim),
          az: "",
          layer: "tcp",
          code: "TCP_REFUSED",
        },
        1,
      ]),
    );
  });

  it.each([
    ["no module", "/probe?target=x", /^module: missing/],
    ["an unknown module", "/probe?module=nope&target=x", /^unknown module "nope"/],
    ["no target", "/probe?module=sim", /^target: missing/],
    ["an empty target", "/probe?module=sim&target=", /^target: missing/],
    ["two targets", "/probe?module=sim&target=a&target=b", /^target: given 2 times/],
    ["an IP address", "/probe?module=sim&target=127.0.0.1", /is neither an execute-api VPC/],
    ["any other name", "/probe?module=sim&target=example.com", /is neither an execute-api VPC/],
    ["a host:port", "/probe?module=sim&target=example.com:22", /is not a valid DNS name/],
    [
      "an endpoint name as a prefix of another domain",
      "/probe?module=sim&target=vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com.evil.example",
      /is neither an execute-api VPC/,
    ],
    [
      "a URL",
      `/probe?module=sim&target=${encodeURIComponent("https://127.0.0.1/")}`,
      /is not a valid DNS name/,
    ],
    [
      "a name with a line break",
      `/probe?module=sim&target=${encodeURIComponent("a.example\r\nx: y")}`,
      /is not a valid DNS name/,
    ],
    [
      "a domain another module allows",
      "/probe?module=sim&target=shop.example.com",
      /is neither an execute-api VPC .* nor a domain module sim allows/,
    ],
    ["a very long name", `/probe?module=sim&target=${"a".repeat(2000)}`, /longer than a DNS name/],
  ])("refuses %s with 400 and one line, without sending a packet", async (_what, path, reason) => {
    const d = await start(settingsWith(sim, MODULES(sim)));
    const before = sim.stats();
    const res = await get(d, path);
    expect(res.status).toBe(400);
    expect(res.type).toBe("text/plain; charset=utf-8");
    expect(res.body).toMatch(reason);
    expect(res.body.endsWith("\n")).toBe(true);
    expect(res.body.trimEnd().split("\n")).toHaveLength(1);
    expect(res.body.length).toBeLessThan(400);
    expect(sim.stats()).toEqual(before);
  });

  it("diagnoses a custom domain its module lists, in domain mode", async () => {
    const d = await start(settingsWith(sim, MODULES(sim)));
    const res = await get(d, "/probe?module=shop&target=SHOP.example.com.");
    expect(res.status, res.body).toBe(200);
    const samples = parseMetrics(res.body);
    expect(valueOf(samples, "probe_success", {})).toBe(1);
    for (const address of sim.addresses)
      expect(
        valueOf(samples, "apigw_diag_probe_success", {
          target: "shop.example.com",
          stage: "shop",
          address,
          mode: "domain",
        }),
      ).toBe(1);
    // A module made only of domains probes only those.
    const endpoint = await get(d, probePath(sim, "shop"));
    expect(endpoint.status).toBe(400);
    expect(endpoint.body).toMatch(/^target: module shop has no apiId and stages/);
  });

  it("refuses a scrape timeout header that is not a number of seconds", async () => {
    const d = await start(settingsWith(sim, MODULES(sim)));
    for (const value of ["abc", "-1", "0", "Infinity"]) {
      const res = await get(d, probePath(sim), { "X-Prometheus-Scrape-Timeout-Seconds": value });
      expect(res.status, value).toBe(400);
      expect(res.body).toMatch(/^X-Prometheus-Scrape-Timeout-Seconds: not a positive number/);
    }
  });

  it("stops the diagnosis at the scrape timeout less the offset, and says so", async () => {
    // Phases of 5 s: a TLS handshake that never completes would hold the answer 5 s without the
    // header's bound of 1.5 s - 0.5 s.
    const d = await start(settingsWith(sim, MODULES(sim), { timeout: "5s" }));
    sim.setFaults({ address: { "127.0.0.1": "tls-stall", [second(sim)]: "tls-stall" } });
    const started = Date.now();
    const res = await get(d, probePath(sim), { "X-Prometheus-Scrape-Timeout-Seconds": "1.5" });
    const wallMs = Date.now() - started;
    expect(res.status).toBe(200);
    const samples = parseMetrics(res.body);
    expect(valueOf(samples, "apigw_diag_probe_deadline_exceeded", {})).toBe(1);
    expect(valueOf(samples, "probe_success", {})).toBe(0);
    expect(valueOf(samples, "probe_duration_seconds", {})).toBeGreaterThanOrEqual(0.9);
    // The bound is the behaviour: 1 s budget, answered well before the 5 s phase timeout.
    expect(wallMs).toBeLessThan(3_000);
  });

  it("computes the budget as blackbox_exporter does", () => {
    expect(budget("10")).toBe(9_500);
    expect(budget("0.6")).toBe(300); // half of it rather than almost nothing
    expect(budget(undefined)).toBe(119_500);
    expect(budget("3600")).toBe(119_500);
    expect(() => budget("")).toThrow(/not a positive number/);
  });

  it("bounds the probes running at once: the one too many gets 503 and one line", async () => {
    let release: () => void = () => {};
    let started: () => void = () => {};
    const running = new Promise<void>((r) => (started = r));
    const gate = new Promise<void>((r) => (release = r));
    const real = await import("../../src/diagnose/run.js");
    const d = await start(
      settingsWith(sim, MODULES(sim), { daemon: "  maxConcurrentProbes: 1\n" }),
      {
        diagnoseTarget: async (target, opts) => {
          started();
          await gate;
          return real.diagnoseTarget(target, opts);
        },
      },
    );
    const first = get(d, probePath(sim));
    await running;
    const second = await get(d, probePath(sim));
    expect(second.status).toBe(503);
    expect(second.body).toBe("too many /probe requests running at once (1)\n");
    release();
    expect((await first).status).toBe(200);
    expect((await get(d, probePath(sim))).status).toBe(200); // the slot is free again
  });

  it("aborts the diagnosis when the client goes away", async () => {
    let aborted: (why: unknown) => void = () => {};
    const abortSeen = new Promise<unknown>((r) => (aborted = r));
    let started: () => void = () => {};
    const running = new Promise<void>((r) => (started = r));
    const d = await start(settingsWith(sim, MODULES(sim)), {
      diagnoseTarget: (_target, opts) =>
        new Promise<TargetReport>((_resolve, reject) => {
          started();
          opts.signal?.addEventListener("abort", () => {
            aborted(opts.signal?.reason);
            reject(new Error("aborted"));
          });
        }),
    });
    const client = new AbortController();
    const request = fetch(`http://127.0.0.1:${d.port}${probePath(sim)}`, {
      signal: client.signal,
    }).catch(() => undefined);
    await running;
    client.abort();
    await request;
    await expect(abortSeen).resolves.toBeDefined();
  });

  it("answers a probe that outlasts the idle and request timeouts bounding other requests", async () => {
    const saved = { ...SERVER_LIMITS };
    Object.assign(SERVER_LIMITS, {
      headersTimeoutMs: 200,
      requestTimeoutMs: 300,
      idleSocketMs: 300,
      timeoutCheckMs: 50,
    });
    try {
      const real = await import("../../src/diagnose/run.js");
      const d = await start(settingsWith(sim, MODULES(sim)), {
        diagnoseTarget: async (target, opts) => {
          await new Promise((r) => setTimeout(r, 1_000));
          return real.diagnoseTarget(target, opts);
        },
      });
      const res = await get(d, probePath(sim), { "X-Prometheus-Scrape-Timeout-Seconds": "10" });
      expect(res.status).toBe(200);
      expect(valueOf(parseMetrics(res.body), "probe_success", {})).toBe(1);
    } finally {
      Object.assign(SERVER_LIMITS, saved);
    }
  });

  it("uses the modules of a reloaded config from the next probe on", async () => {
    let text = MODULES(sim);
    const d = await start(settingsWith(sim, text), { reload: () => settingsWith(sim, text) });
    text = text.replace("  sim:", "  renamed:");
    expect(await d.reload()).toBe(true);
    expect((await get(d, probePath(sim))).status).toBe(400);
    expect((await get(d, probePath(sim, "renamed"))).status).toBe(200);
    text = `${text}\n  broken: { apiId: NOPE, stages: [prod] }\n`;
    expect(await d.reload()).toBe(false); // refused: the modules in force stay
    expect((await get(d, probePath(sim, "renamed"))).status).toBe(200);
  });
});
