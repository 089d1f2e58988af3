import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { cliEnv, diagnoseFlags } from "../run-cli.js";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ stages: { prod: "ok" } });
});
afterAll(async () => {
  await sim?.close();
});

/** The built CLI with the counter preloaded; AWS reads go to a closed loopback port. */
function run(extra: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; sdkFiles: number; stderr: string; stdout: string }>(
    (resolve) => {
      execFile(
        process.execPath,
        ["--require", "./test/aws/sdk-loaded.cjs", "dist/cli.cjs", ...diagnoseFlags(sim), ...extra],
        { env: cliEnv({ APIGW_DIAG_COMPARE_OS: "false", ...env }), timeout: 20_000 },
        (err, stdout, stderr) => {
          const line = stderr.split("\n").find((l) => l.includes('"awsSdkFiles"')) ?? "{}";
          const { awsSdkFiles } = JSON.parse(line) as { awsSdkFiles?: number };
          resolve({
            code: err ? Number(err.code) : 0,
            sdkFiles: awsSdkFiles ?? -1,
            stderr,
            stdout,
          });
        },
      );
    },
  );
}

const NO_AWS = {
  AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  AWS_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_CONFIG_FILE: "/nonexistent/aws-config",
  AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
};

describe("the AWS SDK is loaded only with --aws", () => {
  it("a run without --aws loads none of it; the same run with --aws does", async () => {
    const without = await run(["--format=json"]);
    const withAws = await run(["--format=json", "--aws", "--timeout=1s"], NO_AWS);
    expect(without.sdkFiles).toBe(0);
    expect(withAws.sdkFiles).toBeGreaterThan(0);
    expect(withAws.code).toBe(without.code);
  }, 30_000);
});

describe("nothing from the SDK on stderr", () => {
  // The check can fail: on Node 20 the SDK warns about its Node support when a client is made.
  it.runIf(Number(process.versions.node.split(".")[0]) < 22)(
    "the SDK alone warns on this Node; apigw-diag --aws does not",
    async () => {
      const bare = await new Promise<string>((resolve) =>
        execFile(
          process.execPath,
          ["-e", 'new (require("@aws-sdk/client-ec2").EC2Client)({ region: "us-east-1" })'],
          { env: cliEnv() },
          (_e, _o, stderr) => resolve(stderr),
        ),
      );
      expect(bare).toContain("NodeVersionSupportWarning");
      const r = await run(["--format=json", "--aws", "--timeout=1s"], NO_AWS);
      expect(r.stderr).not.toContain("NodeVersionSupportWarning");
      for (const line of r.stderr.split("\n").filter(Boolean))
        expect(JSON.parse(line), line).toBeTypeOf("object");
    },
    30_000,
  );
});

describe("every AWS call is bounded by the run's timeout", () => {
  it("an AWS endpoint that accepts and never answers: AWS_UNREADABLE after about one timeout", async () => {
    const net = await import("node:net");
    const held = new Set<import("node:net").Socket>();
    const silent = net.createServer((s) => held.add(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const { port } = silent.address() as import("node:net").AddressInfo;
    try {
      const started = Date.now();
      const r = await run(["--format=json", "--aws", "--timeout=1s"], {
        ...NO_AWS,
        AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
        AWS_ACCESS_KEY_ID: "AKIDTEST",
        AWS_SECRET_ACCESS_KEY: "test",
      });
      const wallMs = Date.now() - started;
      expect(r.code).toBe(0);
      expect(held.size).toBeGreaterThan(0); // the calls did reach it
      const report = JSON.parse(r.stdout) as import("../../src/types.js").Report;
      const unreadable = report.targets[0]!.findings.filter((f) => f.code === "AWS_UNREADABLE");
      expect(unreadable.map((f) => f.layer === "aws" && f.evidence.error)).toEqual([
        "TimeoutError: no answer within 1000 ms",
      ]);
      // One round of reads (the endpoint's was not read, so no second round), each cut at 1 s;
      // the bound is the behaviour: at least twice the margin, process start included.
      expect(wallMs).toBeLessThan(6_000);
      expect(r.stderr).not.toContain("NodeVersionSupportWarning");
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  }, 30_000);
});
