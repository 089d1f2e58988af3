// The new flags through the built CLI: --domain, --base-path, --family, --no-compare-modes.
import { cli } from "./run-cli.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../src/simulator/index.js";
import type { Report } from "../src/types.js";
import { cliTriesSecond } from "./helpers.js";

let sim: Simulator;
let common: string[];
beforeAll(async () => {
  sim = await startSimulator({
    accessMode: "STRICT",
    domains: [
      { name: "ledger.intra.example.com", associated: true, basePaths: { ledger: "prod" } },
    ],
  });
  common = [
    "diagnose",
    `--resolver=127.0.0.1:${sim.dns.port}`,
    `--port=${sim.port}`,
    `--ca-file=${sim.caFile}`,
    "--private-cidr=127.0.0.0/8",
    // Where loopback holds 127.0.0.1 alone (macOS), the simulator's second AZ is ::1.
    "--private-cidr=::1/128",
    "--timeout=1s",
    "--format=json",
  ];
});
afterAll(() => sim.close());

describe("apigw-diag diagnose, today's private APIs", () => {
  it("diagnoses a custom domain with --domain and --base-path, mode domain in the JSON", async () => {
    const { code, stdout } = await cli([
      ...common,
      "--domain=ledger.intra.example.com",
      "--base-path=/ledger",
      `--endpoint=${sim.endpoint}`,
    ]);
    const report = JSON.parse(stdout) as Report;
    expect(code).toBe(0);
    expect(report.targets[0]).toMatchObject({
      mode: "domain",
      domain: "ledger.intra.example.com",
      stages: ["ledger"],
      verdict: "healthy",
    });
  });

  it("reports HTTP_MODE_REJECTED for a STRICT API, and HTTP_FORBIDDEN with --no-compare-modes", async () => {
    const target = [`--endpoint=${sim.endpoint}`, `--api-id=${sim.apiId}`, "--stage=prod"];
    const compared = JSON.parse((await cli([...common, ...target])).stdout) as Report;
    expect(compared.targets[0]?.primaryCause?.code).toBe("HTTP_MODE_REJECTED");
    // One host and one alias request through each of the simulator's addresses the CLI tries:
    // both, but for ::1 on a host without IPv6 connectivity (--family auto).
    const tried = compared.targets[0]?.addresses ?? [];
    expect(tried).toEqual(cliTriesSecond ? sim.addresses : sim.addresses.slice(0, 1));
    const modes = compared.targets[0]?.comparisons?.map((c) => c.mode).sort();
    expect(modes).toEqual(tried.flatMap(() => ["alias", "host"]).sort());
    const plain = await cli([...common, ...target, "--no-compare-modes"]);
    const report = JSON.parse(plain.stdout) as Report;
    expect(report.targets[0]?.primaryCause?.code).toBe("HTTP_FORBIDDEN");
    expect(plain.code).toBe(2);
  });

  it("refuses a bad --family and a base path that climbs, with one line and exit 3", async () => {
    for (const bad of [["--family=5"], ["--domain=d.example.com", "--base-path=../x"]]) {
      const { code, stderr } = await cli([...common, `--endpoint=${sim.endpoint}`, ...bad]);
      expect(code).toBe(3);
      expect(stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});
