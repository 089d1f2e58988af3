// `demo --scenario`: each of today's private-API failures shows its own code, through the built CLI.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { SCENARIO_NAMES } from "../src/commands/demo-scenarios.js";
import type { Report } from "../src/types.js";
import { cliEnv } from "./run-cli.js";

const run = promisify(execFile);

async function demo(args: string[]): Promise<{ stdout: string; code: number }> {
  try {
    const { stdout } = await run(process.execPath, ["dist/cli.js", "demo", ...args], {
      env: cliEnv(),
      timeout: 20_000,
    });
    return { stdout, code: 0 };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { stdout: e.stdout, code: e.code };
  }
}

describe("demo --scenario", () => {
  it.each([
    ["strict", "HTTP_MODE_REJECTED", "failing"],
    ["dualstack", "TCP_REFUSED", "degraded"],
    ["domain-unassociated", "HTTP_DOMAIN_FORBIDDEN", "failing"],
    ["domain-elsewhere", "DNS_DOMAIN_ELSEWHERE", "failing"],
  ])("%s shows %s (%s), and exits 0 as a showcase", async (name, code, verdict) => {
    const { stdout, code: exit } = await demo(["--scenario", name, "--format", "json"]);
    const report = JSON.parse(stdout) as Report;
    expect(report.targets[0]?.primaryCause?.code).toBe(code);
    expect(report.verdict).toBe(verdict);
    expect(exit).toBe(0);
  });

  it.each([
    ["strict-421", "HTTP_MODE_REJECTED", "failing"],
    ["default-endpoint-disabled", "HTTP_FORBIDDEN", "failing"],
    ["zone-forward", "DNS_ZONE_FORWARDED", "healthy"],
    ["aaaa-only", "HTTP_OK", "healthy"],
    ["tls13-only", "TLS_12_REFUSED", "healthy"],
    ["domain-deny-all", "HTTP_POLICY_DENY", "failing"],
  ])("%s shows %s (%s)", async (name, code, verdict) => {
    const { stdout, code: exit } = await demo(["--scenario", name, "--format", "json"]);
    const report = JSON.parse(stdout) as Report;
    expect(report.targets[0]?.findings.map((f) => f.code)).toContain(code);
    expect(report.verdict).toBe(verdict);
    expect(exit).toBe(0);
  });

  it("missing-token-404 shows the customized 404 with its error type", async () => {
    const { stdout } = await demo(["--scenario", "missing-token-404", "--format", "json"]);
    const report = JSON.parse(stdout) as Report;
    const prod = report.targets[0]?.findings.find((f) => f.layer === "http" && f.stage === "prod");
    expect(prod?.layer === "http" && prod.evidence.status).toBe(404);
    expect(prod?.layer === "http" && prod.evidence.errorType).toBe(
      "MissingAuthenticationTokenException",
    );
    expect(report.verdict).toBe("degraded");
  });

  it("aaaa-only probes the endpoint's one IPv6 address, with no A record", async () => {
    const { stdout } = await demo(["--scenario", "aaaa-only", "--format", "json"]);
    const report = JSON.parse(stdout) as Report;
    expect(report.targets[0]?.addresses).toEqual(["::1"]);
  });

  it("offers on the command line exactly the scenarios it has", async () => {
    const { stdout } = await demo(["--help"]);
    for (const name of SCENARIO_NAMES) expect(stdout).toContain(`"${name}"`);
  });

  it("leaves the default demo as it was", async () => {
    const { stdout } = await demo(["--format", "json"]);
    const report = JSON.parse(stdout) as Report;
    expect(report.targets[0]?.primaryCause?.code).toBe("HTTP_FORBIDDEN");
    expect(report.targets[0]?.comparisons).toBeUndefined();
  });
});
