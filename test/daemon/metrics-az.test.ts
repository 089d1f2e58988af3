// apigw_diag_address_failure carries the address's AZ, so an alert can say "eu-west-3b drops SYN".
import { describe, expect, it } from "vitest";
import { finding } from "../../src/diagnose/classify.js";
import { DaemonMetrics, addressFailures } from "../../src/daemon/metrics.js";
import type { TargetReport } from "../../src/types.js";

const info = (address: string, az: string | null) => ({
  address,
  family: 4 as const,
  az,
  source: "10.0.0.10",
  interface: "eth0",
  gateway: "10.0.0.1",
  mtu: 9000,
});

const report: TargetReport = {
  name: "orders",
  endpoint: "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.eu-west-3.vpce.amazonaws.com",
  apiId: "a1b2c3d4e5",
  mode: "header",
  stages: ["prod"],
  comparisonRequests: 0,
  addresses: ["10.20.1.10", "10.20.2.10", "10.20.3.10"],
  verdict: "degraded",
  primaryCause: null,
  skipped: [],
  unfinished: [],
  insecure: false,
  durationMs: 10,
  findings: [
    finding(
      "HTTP_OK",
      "200",
      { request: "GET /prod/" },
      { total: 1 },
      {
        address: "10.20.1.10",
        stage: "prod",
      },
    ),
    finding("TCP_TIMEOUT", "no answer", { port: 443 }, { total: 1 }, { address: "10.20.2.10" }),
    finding("TCP_TIMEOUT", "no answer", { port: 443 }, { total: 1 }, { address: "10.20.3.10" }),
  ],
  addressInfo: [
    info("10.20.1.10", "eu-west-3a"),
    info("10.20.2.10", "eu-west-3b"),
    info("10.20.3.10", null),
  ],
};

describe("the az label", () => {
  it("names each failing address's AZ, empty when unknown", () => {
    expect(addressFailures(report)).toEqual([
      {
        target: "orders",
        stage: "prod",
        address: "10.20.2.10",
        az: "eu-west-3b",
        layer: "tcp",
        code: "TCP_TIMEOUT",
      },
      {
        target: "orders",
        stage: "prod",
        address: "10.20.3.10",
        az: "",
        layer: "tcp",
        code: "TCP_TIMEOUT",
      },
    ]);
  });

  it("is in the exposition", async () => {
    const metrics = new DaemonMetrics();
    metrics.record(report, Date.now());
    const text = [...(await metrics.render())].join("");
    expect(text).toContain(
      'apigw_diag_address_failure{target="orders",stage="prod",address="10.20.2.10",az="eu-west-3b",layer="tcp",code="TCP_TIMEOUT"} 1',
    );
  });
});
