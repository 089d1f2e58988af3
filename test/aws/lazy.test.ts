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
  return new Promise<{ code: number; sdkFiles: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ["--require", "./test/aws/sdk-loaded.cjs", "dist/cli.cjs", ...diagnoseFlags(sim), ...extra],
      { env: cliEnv({ APIGW_DIAG_COMPARE_OS: "false", ...env }), timeout: 20_000 },
      (err, _stdout, stderr) => {
        const line = stderr.split("\n").find((l) => l.includes('"awsSdkFiles"')) ?? "{}";
        const { awsSdkFiles } = JSON.parse(line) as { awsSdkFiles?: number };
        resolve({ code: err ? Number(err.code) : 0, sdkFiles: awsSdkFiles ?? -1, stderr });
      },
    );
  });
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
