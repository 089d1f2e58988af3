import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
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

/** The bundle's files that hold the AWS SDK's own code (its EC2 client class). */
function sdkChunks(): Set<string> {
  const dist = path.resolve("dist");
  const { readdirSync } = process.getBuiltinModule("node:fs");
  const files = readdirSync(dist).filter((f) => f.endsWith(".js"));
  const marker = /\bEC2Client\s*=\s*class\b|\bclass EC2Client\b/;
  return new Set(
    files
      .filter((f) => marker.test(readFileSync(path.join(dist, f), "utf8")))
      .map((f) => path.join(dist, f)),
  );
}

/** The built CLI (with a module hook preloaded when `watchModules`, to count the SDK chunks it loads). */
function run(extra: string[], env: NodeJS.ProcessEnv = {}, watchModules = false) {
  const dir = mkdtempSync(path.join(tmpdir(), "agd-aws-lazy-"));
  const log = path.join(dir, "loaded");
  return new Promise<{ code: number; sdkFiles: number; stderr: string; stdout: string }>(
    (resolve) => {
      execFile(
        process.execPath,
        [
          ...(watchModules ? ["--import", "./test/aws/sdk-loaded.mjs"] : []),
          "dist/cli.js",
          ...diagnoseFlags(sim),
          ...extra,
        ],
        {
          env: cliEnv({ APIGW_DIAG_COMPARE_OS: "false", APIGW_DIAG_TEST_LOADED: log, ...env }),
          timeout: 20_000,
        },
        (err, stdout, stderr) => {
          const loaded = existsSync(log)
            ? readFileSync(log, "utf8")
                .split("\n")
                .filter((u) => u.startsWith("file:"))
                .map((u) => fileURLToPath(u))
            : [];
          rmSync(dir, { recursive: true, force: true });
          const sdk = sdkChunks();
          resolve({
            code: err ? Number(err.code) : 0,
            sdkFiles:
              !watchModules || loaded.length === 0 ? -1 : loaded.filter((f) => sdk.has(f)).length,
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
    const without = await run(["--format=json"], {}, true);
    const withAws = await run(["--format=json", "--aws", "--timeout=1s"], NO_AWS, true);
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
