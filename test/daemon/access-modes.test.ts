// The daemon with a custom-domain target and a header-mode target: the mode label, and the
// comparison's verdict, as Prometheus scrapes them.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/file.js";
import { resolveSettings } from "../../src/config/load.js";
import { startDaemon, type Daemon } from "../../src/daemon/index.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { parseMetrics, pick, simDaemon, valueOf, waitFor } from "./helpers.js";

describe("daemon: access modes in the metrics", () => {
  let sim: Simulator;
  let daemon: Daemon | undefined;
  beforeAll(async () => {
    sim = await startSimulator({
      addresses: ["127.0.0.1"],
      accessMode: "STRICT",
      domains: [
        { name: "ledger.intra.example.com", associated: true, basePaths: { ledger: "prod" } },
      ],
    });
  });
  afterAll(async () => {
    await daemon?.stop("test");
    await sim.close();
  });

  it("labels probe_success with the mode, and reports STRICT as HTTP_MODE_REJECTED", async () => {
    const config = [
      "timeout: 1s",
      `resolvers: ["${sim.dns.host}:${sim.dns.port}"]`,
      `caFile: ${JSON.stringify(sim.caFile)}`,
      'privateCidrs: [127.0.0.0/8, "::1/128"]',
      "compareOs: false",
      "daemon:",
      "  interval: 5s", // the first run waits up to a tenth of it (jitter)
      "  listen: 127.0.0.1:0",
      "targets:",
      "  - name: ledger",
      "    domain: ledger.intra.example.com",
      "    basePaths: [ledger]",
      `    port: ${sim.port}`,
      "  - name: orders",
      `    endpoint: ${sim.endpoint}`,
      `    apiId: ${sim.apiId}`,
      "    stages: [prod]",
      `    port: ${sim.port}`,
    ].join("\n");
    const settings = resolveSettings({}, {}, parseConfigText(config, "test.yaml"));
    daemon = await startDaemon({ settings, log: pino({ level: "silent" }), ...simDaemon(sim) });
    const d = daemon;
    const samples = await waitFor("both targets' first runs", async () => {
      const text = await (await fetch(`http://127.0.0.1:${d.port}/metrics`)).text();
      const parsed = parseMetrics(text);
      return pick(parsed, "apigw_diag_probe_success").length >= 2 ? parsed : undefined;
    });
    const where = { stage: "ledger", address: "127.0.0.1", mode: "domain" };
    expect(valueOf(samples, "apigw_diag_probe_success", { target: "ledger", ...where })).toBe(1);
    expect(
      valueOf(samples, "apigw_diag_probe_success", {
        target: "orders",
        stage: "prod",
        address: "127.0.0.1",
        mode: "header",
      }),
    ).toBe(0);
    expect(
      valueOf(samples, "apigw_diag_finding", {
        target: "orders",
        layer: "http",
        code: "HTTP_MODE_REJECTED",
      }),
    ).toBe(1);
  });
});
