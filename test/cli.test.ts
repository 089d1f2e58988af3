// The built CLI as a user runs it: exit codes, one-line errors, the JSON document, the demo.
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cliTriesSecond } from "./helpers.js";
import { cli, cliEnv, diagnoseFlags } from "./run-cli.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../src/simulator/index.js";
import type { Report } from "../src/types.js";

const CLI = "dist/cli.js";

let sim: Simulator;
let simArgs: string[];
beforeAll(async () => {
  sim = await startSimulator({ stages: { prod: "ok", v2: "ok" } });
  simArgs = [...diagnoseFlags(sim, { stages: ["prod", "v2"] }), "--timeout=1s"];
});
afterAll(async () => {
  await sim.close();
});

describe("apigw-diag", () => {
  it("prints the design's JSON document and exits 0 when healthy", async () => {
    const { code, stdout, stderr } = await cli([...simArgs, "--format=json"]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(Object.keys(report)).toEqual([
      "schemaVersion",
      "tool",
      "startedAt",
      "durationMs",
      "targets",
      "verdict",
      "interrupted",
      "exitCode",
    ]);
    expect(report).toMatchObject({
      schemaVersion: 1,
      tool: { name: "apigw-diag" },
      verdict: "healthy",
      interrupted: false,
      exitCode: 0,
    });
    const t = report.targets[0];
    // Every address of the simulator is tried, but ::1 (its second AZ where loopback holds
    // 127.0.0.1 alone) on a host without IPv6 connectivity: that one is listed as not tried.
    const tried = cliTriesSecond ? sim.addresses : sim.addresses.slice(0, 1);
    expect(t?.skipped).toEqual(
      sim.addresses
        .filter((a) => !tried.includes(a))
        .map((address) => ({
          address,
          layers: ["tcp", "tls", "http"],
          reason: expect.stringMatching(/^no IPv6 connectivity on this host/),
        })),
    );
    expect(t).toMatchObject({
      endpoint: sim.endpoint,
      apiId: sim.apiId,
      stages: ["prod", "v2"],
      addresses: tried,
      verdict: "healthy",
      primaryCause: null,
      unfinished: [],
    });
    for (const f of t?.findings ?? [])
      expect(Object.keys(f)).toEqual(
        expect.arrayContaining([
          "layer",
          "code",
          "status",
          "timings",
          "message",
          "hint",
          "evidence",
        ]),
      );
    // Logs are pino JSON lines on stderr: one per finding plus summaries.
    const events = stderr
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string });
    expect(events.filter((e) => e.event === "finding")).toHaveLength(t?.findings.length ?? -1);
    expect(events.at(-1)).toMatchObject({ event: "summary", verdict: "healthy", exitCode: 0 });
  });

  it("exits 1 when degraded and 2 when failing", async () => {
    sim.setStages({ prod: "ok" });
    expect((await cli([...simArgs, "--format=json"])).code).toBe(1);
    sim.setStages({});
    expect((await cli([...simArgs, "--format=json"])).code).toBe(2);
    sim.setStages({ prod: "ok", v2: "ok" });
  });

  it("prints the text report with the verdict first and no colour when not on a terminal", async () => {
    sim.setStages({ prod: "ok" });
    const { code, stdout } = await cli([...simArgs, "--format=text"]);
    sim.setStages({ prod: "ok", v2: "ok" });
    expect(code).toBe(1);
    expect(stdout.split("\n")[0]).toMatch(/^DEGRADED /);
    expect(stdout).toMatch(/cause: HTTP_FORBIDDEN/);
    expect(stdout).toMatch(/fix: +Stage v2 answers Forbidden/);
    expect(stdout).toMatch(/127\.0\.0\.1 +- +127\.0\.0\.1 +lo +v2 +TCP_OK +TLS_OK +HTTP_FORBIDDEN/);
    expect(stdout).not.toContain("\x1b[");
  });

  it("redacts secrets from stdout and stderr", async () => {
    const { stdout, stderr } = await cli([
      ...simArgs,
      "--format=json",
      "--header=x-api-key: TOPSECRET123",
      "--header=authorization: Bearer TOPSECRET456",
    ]);
    expect(stdout + stderr).not.toMatch(/TOPSECRET/);
    expect(stdout).toContain("[REDACTED]");
  });

  it("writes nothing but its log lines on stderr for a dualstack endpoint (12 zonal questions)", async () => {
    // IPv4 and IPv6 answers: the path layer asks A and AAAA of every zonal name at once, each
    // listening on the run's one cancel signal; more than Node's default 10 listeners.
    const dual = await startSimulator({ addresses: ["127.0.0.1", "::1"] });
    try {
      const { stdout, stderr } = await cli([
        ...diagnoseFlags(dual),
        "--timeout=1s",
        "--format=json",
      ]);
      expect((JSON.parse(stdout) as Report).targets[0]?.verdict).not.toBe("failing");
      const notLogs = stderr.split("\n").filter((line) => line !== "" && !line.startsWith("{"));
      expect(notLogs).toEqual([]);
      expect(dual.stats().zonalDnsQueries).toBeGreaterThan(10);
    } finally {
      await dual.close();
    }
  });

  it("takes settings from APIGW_DIAG_* variables", async () => {
    const { code, stdout } = await cli(["diagnose", "--format=json"], {
      APIGW_DIAG_ENDPOINT: sim.endpoint,
      APIGW_DIAG_API_ID: sim.apiId,
      APIGW_DIAG_STAGES: "prod",
      APIGW_DIAG_RESOLVERS: `127.0.0.1:${sim.dns.port}`,
      APIGW_DIAG_PORT: String(sim.port),
      APIGW_DIAG_CA_FILE: sim.caFile,
      // ::1: the simulator's second AZ where loopback holds 127.0.0.1 alone (macOS).
      APIGW_DIAG_PRIVATE_CIDRS: "127.0.0.0/8,::1/128",
      APIGW_DIAG_COMPARE_OS: "false",
    });
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as Report).targets[0]?.stages).toEqual(["prod"]);
  });

  it.each([
    [["diagnose", "--bogus"], /Unknown argument/],
    [["diagnose", "--endpoint=x.example.com"], /--api-id is required/],
    [
      [
        "diagnose",
        "--endpoint=x.example.com",
        "--api-id=a1b2c3d4e5",
        "--stage=prod",
        "--ca-file=/nonexistent/ca.pem",
      ],
      /--ca-file .*cannot read/,
    ],
    [
      [
        "diagnose",
        "--endpoint=x.example.com",
        "--api-id=a1b2c3d4e5",
        "--stage=prod",
        "--header=x-a: b\r\nHost: evil",
      ],
      /line breaks/,
    ],
    [["diagnose", "--endpoint=x.example.com", "--api-id=bad id", "--stage=prod"], /api id/],
    [
      ["diagnose", "--endpoint=x.example.com\r\n", "--api-id=a1b2c3d4e5", "--stage=prod"],
      /not a valid DNS name/,
    ],
    [["diagnose", "--config=/nonexistent.yaml"], /cannot read/],
    [
      [
        "diagnose",
        "--endpoint=x.example.com",
        "--api-id=a1b2c3d4e5",
        "--stage=prod",
        "--timeout=soon",
      ],
      /not a duration/,
    ],
    [
      ["diagnose", "--endpoint=x.example.com", "--api-id=a1b2c3d4e5", "--stage=prod", "--port=abc"],
      /port/,
    ],
    [[], /give a command/],
  ])("refuses %j with one line and exit 3", async (args, message) => {
    const { code, stdout, stderr } = await cli(args, { APIGW_DIAG_RESOLVERS: "127.0.0.1:1" });
    expect(code).toBe(3);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(stderr.trim().split("\n").length).toBeLessThanOrEqual(
      stderr.includes("Options:") ? 100 : 1,
    );
  });

  it("runs the demo: a verdict, a cause and a fix, with no AWS", async () => {
    const { code, stdout } = await cli(["demo", "--format=text"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^DEGRADED /m);
    expect(stdout).toMatch(/HTTP_OK/);
    expect(stdout).toMatch(/cause: HTTP_FORBIDDEN/);
    expect(stdout).toMatch(/not deployed/);
  });

  it("prints the package's version for --version, and with a subcommand's --version", async () => {
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    for (const argv of [["--version"], ["diagnose", "--version"]]) {
      const { code, stdout, stderr } = await cli(argv);
      expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    }
  });

  it("runs through its own plain #!/usr/bin/env node line, as npm's bin link runs it", async () => {
    expect(readFileSync(CLI, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    // As npm's bin link runs it: the file itself.
    const run = (file: string, argv: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(
          file,
          argv,
          { env: cliEnv({ APIGW_DIAG_COMPARE_OS: "false" }), timeout: 20_000 },
          (err, stdout) => resolve({ code: err ? Number(err.code ?? -1) : 0, stdout }),
        ),
      );
    expect(await run(CLI, ["--version"])).toEqual({ code: 0, stdout: `${version}\n` });
    const { code, stdout } = await run(CLI, [...simArgs, "--format=json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ verdict: "healthy" });
  });

  it("answers --version quietly to a reader that is already gone", async () => {
    const child = spawn(process.execPath, [CLI, "--version"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Closed long before node has started and writes.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("stops quietly when the reader of its output goes away (| head)", async () => {
    const child = spawn(process.execPath, [CLI, "demo", "--format=json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });
});
