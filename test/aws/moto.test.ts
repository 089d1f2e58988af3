// The aws layer against a real AWS API server (moto), with the simulator standing in for the
// endpoint on loopback: the endpoint's ENI addresses are 127.20.1.10 and 127.20.2.10, in moto's
// subnets 127.20.1.0/24 and 127.20.2.0/24, and this host's source toward them is 127.0.0.1 (the
// "on-prem" range 127.0.0.0/16).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import type { Report, TargetReport } from "../../src/types.js";
import { cli, cliEnv, diagnoseFlags } from "../run-cli.js";
import { awsEnv, motoAvailable, seed, startMoto, type Moto, type Seeded } from "./moto.js";
import { hasSecondLoopback } from "../helpers.js";

const CI = process.env.CI === "true";
const available = motoAvailable();
if (!available && !CI)
  console.warn("moto_server not found: the aws layer's moto tests are SKIPPED");
// The ENI addresses need Linux's whole 127.0.0.0/8 loopback, not macOS's 127.0.0.1 alone.
const enis = hasSecondLoopback;
if (!enis) console.warn("loopback holds 127.0.0.1 alone: the aws layer's moto tests are SKIPPED");
const runs = (available || CI) && enis;

let moto: Moto;
let seeded: Seeded;
let sim: Simulator;
let flags: string[];

beforeAll(async () => {
  if (!available || !enis) {
    if (CI && !available) throw new Error("moto_server not found (CI=true)");
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

describe.runIf(runs)("the aws layer against moto", () => {
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

  it("the text report lists each aws finding with its fix", async () => {
    const text = flags.filter((f) => f !== "--format=json").concat("--format=text", "--aws");
    const r = await cli(text, awsEnv(moto.url));
    expect(r.stdout).toContain(`aws  FAIL AWS_NO_RETURN_ROUTE 127.20.2.10 (${seeded.subnets.b}`);
    expect(r.stdout).toContain(`fix: Route table ${seeded.tableB} of subnet ${seeded.subnets.b}`);
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

// What moto does not model (5.2.1): the endpoint access mode and security policy of a REST API,
// and domain name access associations (its server answers those with an HTML page). For them a
// small local server answers as API Gateway documents it (API Reference: RestApi,
// GetDomainNameAccessAssociations, DomainNameAccessAssociation), while EC2 stays on moto.
const STRICT_API = "s1t2r3i4c5";
const DOMAIN = "ledger.intra.example.com";

interface FakeApigw {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

async function documentedApigw(): Promise<FakeApigw> {
  const http = await import("node:http");
  const requests: string[] = [];
  const answers: Record<string, unknown> = {
    [`/restapis/${STRICT_API}`]: {
      id: STRICT_API,
      name: "orders-strict",
      endpointConfiguration: { types: ["PRIVATE"] },
      disableExecuteApiEndpoint: false,
      securityPolicy: "SecurityPolicy_TLS13_1_3_2025_09",
      endpointAccessMode: "STRICT",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: "*",
            Action: "execute-api:Invoke",
            Resource: "execute-api:/*",
          },
        ],
      }).replace(/"/g, '\\"'),
    },
    [`/restapis/${STRICT_API}/stages`]: { item: [{ stageName: "prod", deploymentId: "t2m9k1" }] },
    // An association of the domain with another endpoint only.
    "/domainnameaccessassociations": {
      item: [
        {
          domainNameAccessAssociationArn: `arn:aws:apigateway:us-east-1:111122223333:/domainnameaccessassociations/domainname/${DOMAIN}+abcd1234/vpcesource/vpce-0fedcba9876543210`,
          accessAssociationSource: "vpce-0fedcba9876543210",
          accessAssociationSourceType: "VPCE",
          domainNameArn: `arn:aws:apigateway:us-east-1:111122223333:/domainnames/${DOMAIN}+abcd1234`,
        },
      ],
    },
  };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    requests.push(`${req.method} ${path}`);
    const body = answers[path];
    res.writeHead(body ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(body ?? { message: "not found" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe.runIf(runs)("the aws layer where moto has no model: documented answers", () => {
  let fake: FakeApigw;
  let strict: Simulator;
  let common: string[];
  beforeAll(async () => {
    fake = await documentedApigw();
    strict = await startSimulator({
      endpoint: `${seeded.vpceId}-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com`,
      apiId: STRICT_API,
      addresses: ["127.20.1.10", "127.20.2.10"],
      accessMode: "STRICT",
      stages: { prod: "ok" },
      domains: [{ name: DOMAIN, associated: false, basePaths: { ledger: "prod" } }],
    });
    common = [
      "diagnose",
      `--endpoint=${strict.endpoint}`,
      `--resolver=127.0.0.1:${strict.dns.port}`,
      `--port=${strict.port}`,
      `--ca-file=${strict.caFile}`,
      "--private-cidr=127.0.0.0/8",
      "--no-compare-os",
      "--timeout=2s",
      "--format=json",
      "--aws",
    ];
  }, 30_000);
  afterAll(async () => {
    await strict?.close();
    await fake?.close();
  });
  const env = () => ({ ...awsEnv(moto.url), AWS_ENDPOINT_URL_API_GATEWAY: fake.url });

  it("a STRICT API in header mode: the cause's hint names the API and its access mode", async () => {
    const r = await cli([...common, `--api-id=${STRICT_API}`, "--stage=prod"], env());
    ownLinesOnly(r.stderr);
    const t = target(r.stdout);
    expect(aws(t).map((f) => f.code)).toContain("AWS_ACCESS_MODE_STRICT");
    expect(t.primaryCause?.code).toBe("HTTP_MODE_REJECTED");
    expect(t.primaryCause?.hint).toMatch(new RegExp(`^AWS: API ${STRICT_API}: .*STRICT`));
    expect(r.code).toBe(
      (await cli(common.slice(0, -1).concat(`--api-id=${STRICT_API}`, "--stage=prod"))).code,
    );
  }, 60_000);

  it("a domain without an association from this endpoint: AWS_NO_DOMAIN_ASSOCIATION in the cause", async () => {
    const r = await cli(
      [
        ...common,
        `--domain=${DOMAIN}`,
        "--base-path=/ledger",
        `--api-id=${STRICT_API}`,
        "--stage=prod",
      ],
      env(),
    );
    ownLinesOnly(r.stderr);
    const t = target(r.stdout);
    const assoc = aws(t).find((f) => f.code === "AWS_NO_DOMAIN_ASSOCIATION");
    expect(assoc?.evidence.resource).toBe(DOMAIN);
    expect(t.primaryCause?.code).toBe("HTTP_DOMAIN_FORBIDDEN");
    expect(t.primaryCause?.hint).toContain(
      `no domain name access association with ${seeded.vpceId}`,
    );
  }, 60_000);

  it("the daemon reads AWS once per aws.refresh, not every interval, and says nothing on stderr", async () => {
    const { spawn } = await import("node:child_process");
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const { simulatorConfig, waitFor } = await import("../daemon/helpers.js");
    const dir = mkdtempSync(path.join(os.tmpdir(), "apigw-aws-daemon-"));
    const config = path.join(dir, "daemon.yaml");
    const yaml = simulatorConfig(strict, { stages: ["prod"], interval: "100ms", timeout: "2s" });
    writeFileSync(config, `${yaml}aws:\n  enabled: true\n  refresh: 10m\n`);
    const before = fake.requests.length;
    const proc = spawn(process.execPath, ["dist/cli.js", "daemon", "--config", config], {
      stdio: ["ignore", "pipe", "pipe"],
      env: cliEnv({ ...env(), APIGW_DIAG_LOG_LEVEL: "info" }),
    });
    const runs: string[] = [];
    let stderr = "";
    proc.stdout.on("data", (c: Buffer) =>
      runs.push(
        ...c
          .toString()
          .split("\n")
          .filter((l) => l.includes('"event":"run"')),
      ),
    );
    proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    try {
      await waitFor("five runs", () => runs.length >= 5 || undefined, 30_000);
      const got = fake.requests
        .slice(before)
        .filter((r) => r.startsWith(`GET /restapis/${STRICT_API}`));
      // One GetRestApi and one GetStages for the whole daemon so far.
      expect([...got].sort()).toEqual([
        `GET /restapis/${STRICT_API}`,
        `GET /restapis/${STRICT_API}/stages`,
      ]);
      expect(stderr).toBe("");
    } finally {
      proc.kill("SIGTERM");
      await new Promise((r) => proc.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("never writes: every request to API Gateway was a GET", () => {
    expect(fake.requests.length).toBeGreaterThan(0);
    expect(fake.requests.filter((r) => !r.startsWith("GET "))).toEqual([]);
  });
});

describe.runIf(runs)("the daemon's reads: once per aws.refresh", () => {
  const saved = { ...process.env };
  beforeAll(() => Object.assign(process.env, awsEnv(moto.url)));
  afterAll(() => {
    for (const key of Object.keys(awsEnv(moto.url))) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it("keeps what it read for aws.refresh, and reads again after it", async () => {
    const { startAws } = await import("../../src/aws/layer.js");
    const { resolveSettings } = await import("../../src/config/load.js");
    const sources = new Map([["127.20.1.10", "127.0.0.1"]]);
    const targetWith = (refresh: string) =>
      resolveSettings(
        {
          endpoint: sim.endpoint,
          apiId: seeded.apiId,
          stages: ["v3"],
          resolvers: ["127.0.0.1:53"],
          aws: true,
        },
        {},
        { aws: { refresh } },
      ).targets[0]!;
    const stageCodes = async (refresh: string) => {
      const judge = await startAws(targetWith(refresh), new AbortController().signal);
      const findings = await judge(["127.20.1.10"], sources);
      return findings.filter((f) => f.code === "AWS_STAGE_MISSING").map((f) => f.stage);
    };
    expect(await stageCodes("10m")).toEqual(["v3"]);
    // v3 gets its deployment on moto: a run within aws.refresh still judges the earlier read.
    const { APIGatewayClient, CreateDeploymentCommand } =
      await import("@aws-sdk/client-api-gateway");
    const ag = new APIGatewayClient({ region: "us-east-1", endpoint: moto.url });
    await ag.send(new CreateDeploymentCommand({ restApiId: seeded.apiId, stageName: "v3" }));
    ag.destroy();
    expect(await stageCodes("10m")).toEqual(["v3"]);
    expect(await stageCodes("1ms")).toEqual([]);
  }, 30_000);
});
