// The aws layer in the namespace lab: the lab's VPC seeded on moto's server, which runs on the
// on-prem host's own loopback (where the CLI runs), and real SYN drops on the VPC side. The
// primary cause must name the AWS resource behind the drop: the route table of the one AZ that
// does not answer, or the security group that lacks this host's range.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrimaryCause } from "../../src/types.js";
import {
  ADDR,
  LAB_DIR,
  Lab,
  REPO_ROOT,
  checkSupport,
  describeDiagnosis,
  startInNamespace,
  startResolver,
  stopProcess,
  type Started,
} from "./lab.js";

const support = checkSupport();
const moto = spawnSync("sh", ["-c", "command -v moto_server"], { stdio: "ignore" }).status === 0;
const MOTO_URL = "http://127.0.0.1:5000"; // the on-prem namespace's own loopback

interface Seeded {
  vpceId: string;
  groupId: string;
  tableB: string;
  apiId: string;
  subnets: { a: string; b: string };
}

describe.skipIf(!support.ok || !moto)("network lab: the aws layer names the resource", () => {
  const lab = new Lab();
  let resolver: Started | undefined;
  let simulator: Started | undefined;
  let motoServer: ChildProcess | undefined;
  let seeded: Seeded;
  let endpoint = "";
  let caFile = "";
  const savedEnv = { ...process.env };
  const downOnExit = (): void => lab.down();

  /** A script run in the on-prem namespace, its one JSON line parsed. */
  const onprem = (args: string[]): Record<string, unknown> => {
    const r = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        lab.ns("onprem"),
        process.execPath,
        path.join(LAB_DIR, "aws-seed.mjs"),
        ...args,
      ],
      { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 },
    );
    if (r.status !== 0) throw new Error(`aws-seed.mjs ${args[0]}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  const zone = () =>
    writeFileSync(
      lab.zoneFile,
      JSON.stringify({ [endpoint]: { A: [ADDR.endpointA, ADDR.endpointB], AAAA: [] } }),
    );

  beforeAll(async () => {
    process.once("exit", downOnExit);
    lab.up();
    resolver = await startResolver(lab);
    motoServer = spawn(
      "ip",
      ["netns", "exec", lab.ns("onprem"), "moto_server", "-H", "127.0.0.1", "-p", "5000"],
      {
        stdio: "ignore",
      },
    );
    seeded = onprem(["seed", MOTO_URL]) as unknown as Seeded;
    endpoint = `${seeded.vpceId}-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com`;
    zone();
    simulator = await startInNamespace(
      lab.ns("vpc"),
      path.join(REPO_ROOT, "dist", "simulator", "main.js"),
      [
        "--endpoint",
        endpoint,
        "--api-id",
        seeded.apiId,
        "--address",
        ADDR.endpointA,
        "--address",
        ADDR.endpointB,
        "--https-port",
        "443",
        "--dns-host",
        "127.0.0.1",
        "--dns-port",
        "5353",
        "--stage",
        "prod=ok",
        "--allow-non-loopback",
      ],
    );
    caFile = String(simulator.ready.caFile);
    // The CLI inherits this environment through `ip netns exec`: moto, fake keys, nothing else.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: MOTO_URL,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "AKIDMOTOTEST",
      AWS_SECRET_ACCESS_KEY: "moto-test-secret",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_CONFIG_FILE: "/nonexistent/aws-config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
    });
  }, 120_000);

  afterAll(async () => {
    for (const started of [simulator, resolver]) if (started) await stopProcess(started.child);
    if (motoServer) await stopProcess(motoServer);
    lab.down();
    process.removeListener("exit", downOnExit);
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  });

  const cause = (d: Awaited<ReturnType<typeof diagnose>>) =>
    d.report.targets[0]?.primaryCause as PrimaryCause | null | undefined;
  const diagnose = () =>
    lab.diagnose({
      caFile,
      timeout: "2s",
      target: ["--endpoint", endpoint, "--api-id", seeded.apiId, "--stage", "prod"],
      extra: ["--aws"],
    });

  it("a one-AZ SYN drop with no return route in that subnet names the route table", async () => {
    lab.fault("sg-drop-one");
    const d = await diagnose();
    const t = { primaryCause: cause(d) };
    expect(d.exitCode, describeDiagnosis(d)).toBe(1);
    expect(t.primaryCause?.code).toBe("TCP_TIMEOUT");
    expect(t.primaryCause?.addresses).toEqual([ADDR.endpointB]);
    expect(t.primaryCause?.hint).toContain(
      `Route table ${seeded.tableB} of subnet ${seeded.subnets.b}`,
    );
    expect(t.primaryCause?.hint).not.toContain(seeded.groupId);
    lab.reset();
    zone();
  });

  it("a SYN drop with a security group that lacks this host's range names the group", async () => {
    onprem(["revoke", MOTO_URL, seeded.groupId, "10.0.0.0/24"]);
    lab.fault("sg-drop-all");
    const d = await diagnose();
    const t = { primaryCause: cause(d) };
    expect(d.exitCode, describeDiagnosis(d)).toBe(2);
    expect(t.primaryCause?.code).toBe("TCP_TIMEOUT");
    expect(t.primaryCause?.hint).toMatch(new RegExp(`^AWS: Security group ${seeded.groupId} `));
    expect(t.primaryCause?.hint).toContain(`from ${ADDR.onprem}`);
    lab.reset();
    zone();
  });
});
