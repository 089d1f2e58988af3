// The aws layer against a real AWS API server (moto), with the simulator standing in for the
// endpoint on loopback: the endpoint's ENI addresses are 127.20.1.10 and 127.20.2.10, in moto's
// subnets 127.20.1.0/24 and 127.20.2.0/24, and this host's source toward them is 127.0.0.1 (the
// "on-prem" range 127.0.0.0/16).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import type { Report, TargetReport } from "../../src/types.js";
import { cli, diagnoseFlags } from "../run-cli.js";
import { awsEnv, motoAvailable, seed, startMoto, type Moto, type Seeded } from "./moto.js";

const CI = process.env.CI === "true";
const available = motoAvailable();
if (!available && !CI)
  console.warn("moto_server not found: the aws layer's moto tests are SKIPPED");

let moto: Moto;
let seeded: Seeded;
let sim: Simulator;
let flags: string[];

beforeAll(async () => {
  if (!available) {
    if (CI) throw new Error("moto_server not found (CI=true)");
    return;
  }
  moto = await startMoto();
  seeded = await seed(moto.url, {
    vpcCidr: "127.20.0.0/16",
    subnetA: "127.20.1.0/24",
    subnetB: "127.20.2.0/24",
    sgRange: "10.250.0.0/16", // not this host's range: the security group lacks it
    onprem: "127.0.0.0/16",
  });
  sim = await startSimulator({
    endpoint: `${seeded.vpceId}-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com`,
    apiId: seeded.apiId,
    addresses: ["127.20.1.10", "127.20.2.10"],
    // v2 is not deployed on moto's API either: API Gateway answers such a stage with 403.
    stages: { prod: "ok", v2: "forbidden" },
  });
  flags = [...diagnoseFlags(sim, { stages: ["prod", "v2"] }), "--timeout=2s", "--format=json"];
}, 90_000);

afterAll(async () => {
  await sim?.close();
  await moto?.stop();
});

const target = (stdout: string): TargetReport => (JSON.parse(stdout) as Report).targets[0]!;
const aws = (t: TargetReport) => t.findings.filter((f) => f.layer === "aws");

/** Every stderr line is one of the tool's own pino JSON lines: nothing from the SDK. */
function ownLinesOnly(stderr: string): void {
  for (const line of stderr.split("\n").filter(Boolean)) {
    const parsed = JSON.parse(line) as { level?: unknown };
    expect(parsed.level, line).toBeDefined();
  }
  expect(stderr).not.toMatch(/NodeVersionSupportWarning|AWS SDK/);
}

describe.runIf(available || CI)("the aws layer against moto", () => {
  it("names the missing stage, the security group and the route table, and keeps the exit code", async () => {
    const without = await cli(flags);
    const withAws = await cli([...flags, "--aws"], awsEnv(moto.url));
    expect(withAws.code).toBe(without.code);
    expect(withAws.code).toBe(1); // degraded: v2 is Forbidden, prod works
    ownLinesOnly(withAws.stderr);
    const t = target(withAws.stdout);
    const codes = aws(t).map((f) => [f.code, f.address ?? f.stage ?? null, f.evidence.resource]);
    expect(codes).toEqual(
      expect.arrayContaining([
        ["AWS_STAGE_MISSING", "v2", `${seeded.apiId}/v2`],
        ["AWS_SG_BLOCKS_SOURCE", "127.20.1.10", seeded.groupId],
        ["AWS_SG_BLOCKS_SOURCE", "127.20.2.10", seeded.groupId],
        ["AWS_NO_RETURN_ROUTE", "127.20.2.10", seeded.tableB],
      ]),
    );
    expect(codes).toHaveLength(4); // subnet a's route (main table, via the VGW) is fine
    expect(aws(t).find((f) => f.code === "AWS_NO_RETURN_ROUTE")?.evidence.subnet).toBe(
      seeded.subnets.b,
    );
    // The primary cause stays the data plane's, and its hint names the stage moto lacks.
    expect(t.primaryCause?.code).toBe("HTTP_FORBIDDEN");
    expect(t.primaryCause?.hint).toContain(`API ${seeded.apiId} has no stage v2`);
    expect(target(without.stdout).findings.some((f) => f.layer === "aws")).toBe(false);
  }, 60_000);

  it("without credentials: AWS_UNREADABLE naming the action, the same exit code", async () => {
    const without = await cli(flags);
    const r = await cli([...flags, "--aws"], awsEnv(moto.url, false));
    expect(r.code).toBe(without.code);
    ownLinesOnly(r.stderr);
    const unreadable = aws(target(r.stdout));
    expect(unreadable.map((f) => [f.code, f.status])).toEqual([["AWS_UNREADABLE", "warn"]]);
    expect(unreadable[0]!.evidence.actions).toEqual(
      expect.arrayContaining([
        "ec2:DescribeVpcEndpoints",
        `apigateway:GET /restapis/${seeded.apiId}`,
      ]),
    );
    expect(unreadable[0]!.evidence.error).toMatch(/^no credentials/);
    expect(target(r.stdout).primaryCause).toEqual(target(without.stdout).primaryCause);
  }, 60_000);

  it("an unknown --aws-profile is AWS_UNREADABLE too, not a crash", async () => {
    const r = await cli([...flags, "--aws-profile=nobody-has-this"], awsEnv(moto.url, false));
    expect(r.code).toBe(1);
    ownLinesOnly(r.stderr);
    expect(aws(target(r.stdout)).map((f) => f.code)).toEqual(["AWS_UNREADABLE"]);
  }, 60_000);
});
