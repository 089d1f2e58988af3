// A healthy one-shot diagnose loads only the built-in modules it needs: each one more is compiled
// from source at every start (the bin's V8 flag keeps V8 from Node's cached code for them).
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../src/simulator/index.js";
import { simulatorConfig, waitFor } from "./daemon/helpers.js";
import { cliEnv, diagnoseFlags } from "./run-cli.js";

const PRELOAD = "./test/fixtures/modules-loaded.cjs";

let sim: Simulator;
let tmp: string;
beforeAll(async () => {
  sim = await startSimulator({ stages: { prod: "ok", v2: "ok" } });
  tmp = mkdtempSync(path.join(os.tmpdir(), "apigw-diag-builtins-"));
});
afterAll(async () => {
  await sim.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** The built-in modules node loaded running `argv` (its stdout checked by `check`). */
function builtinsLoaded(argv: string[], check: (stdout: string) => void): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--require", PRELOAD, ...argv],
      { env: cliEnv(), timeout: 20_000 },
      (err, stdout, stderr) => {
        if (err) return reject(err);
        check(stdout);
        const line = stderr.split("\n").find((l) => l.startsWith('{"builtinsLoaded"'));
        resolve((JSON.parse(line ?? "{}") as { builtinsLoaded: string[] }).builtinsLoaded);
      },
    );
  });
}

/**
 * What node loads for an empty CommonJS main, as the bin is; with `importing`, one that imports an
 * empty ES module, as the bin imports cli-main.js (Node's ES module loader then comes in).
 */
function baseline(importing = false): Promise<string[]> {
  const main = path.join(tmp, importing ? "importing.cjs" : "empty.cjs");
  writeFileSync(path.join(tmp, "empty.mjs"), "");
  writeFileSync(main, importing ? 'void import("./empty.mjs");' : "");
  return builtinsLoaded([main], () => {});
}

/** What a healthy diagnose (as the bench runs it) loads beyond the bin's way in. */
async function builtinsOfADiagnose(): Promise<string[]> {
  const before = await baseline(true);
  const argv = [...diagnoseFlags(sim, { stages: ["prod", "v2"] }), "--timeout=2s"];
  const loaded = await builtinsLoaded(
    ["dist/cli.cjs", ...argv, "--format=json", "--log-level=silent"],
    (stdout) => expect(JSON.parse(stdout)).toMatchObject({ verdict: "healthy" }),
  );
  return loaded.filter((m) => !before.includes(m));
}

describe("apigw-diag --version", () => {
  it("loads neither Node's ES module loader nor anything a command needs", async () => {
    const before = await baseline();
    const loaded = (
      await builtinsLoaded(["dist/cli.cjs", "--version"], (stdout) =>
        expect(stdout).toMatch(/^\d+\.\d+\.\d+/),
      )
    ).filter((m) => !before.includes(m));
    expect(loaded.filter((m) => m.startsWith("internal/modules/esm/"))).toEqual([]);
    for (const unneeded of ["tls", "net", "stream", "dgram"])
      expect(loaded).not.toContain(unneeded);
  });
});

describe("a healthy one-shot diagnose", () => {
  it("does not load HTTP/2 (undici's HTTP/2 half is evaluated on first use only)", async () => {
    const loaded = await builtinsOfADiagnose();
    expect(loaded).toContain("tls");
    expect(loaded).not.toContain("http2");
  });

  it("does not load node:http, worker_threads or perf_hooks, which it never calls", async () => {
    const loaded = await builtinsOfADiagnose();
    expect(loaded).toContain("tls");
    // undici's and pino's top-level requires, deferred by scripts/bundle.mjs; the phase clock
    // is process.hrtime, not the global `performance`.
    for (const unused of ["http", "_http_client", "worker_threads", "perf_hooks"])
      expect(loaded).not.toContain(unused);
  });

  it("does not load what the facade of an imported built-in would (the bundle has none)", async () => {
    const loaded = await builtinsOfADiagnose();
    // Node 20's loader of ES modules reads them with fs/promises: then it is in the baseline.
    for (const lazy of [
      "internal/fs/promises", // fs.promises
      "internal/readline/interface", // by fs.promises
      "internal/fs/watchers", // fs.watch
      "internal/crypto/webcrypto", // crypto.webcrypto
      "internal/util/parse_args/parse_args", // util.parseArgs
    ])
      expect(loaded).not.toContain(lazy);
  });
});

describe("the daemon", () => {
  /** The built-ins a daemon loaded from its start to its exit on SIGTERM, after one round. */
  async function builtinsOfADaemon(): Promise<string[]> {
    const config = path.join(tmp, "daemon.yaml");
    writeFileSync(config, simulatorConfig(sim, { stages: ["prod", "v2"] }));
    const proc = spawn(
      process.execPath,
      ["--require", PRELOAD, "dist/cli.cjs", "daemon", "--config", config],
      { stdio: ["ignore", "pipe", "pipe"], env: cliEnv({ APIGW_DIAG_LOG_LEVEL: "info" }) },
    );
    let out = "";
    let err = "";
    proc.stdout.on("data", (c: Buffer) => (out += c.toString()));
    proc.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once("exit", resolve));
    try {
      // A run's end is logged per target: by then the probes, the metrics and the server ran.
      await waitFor("a finished run", () => out.includes('"event":"run"') || undefined);
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    const line = err.split("\n").find((l) => l.startsWith('{"builtinsLoaded"'));
    return (JSON.parse(line ?? "{}") as { builtinsLoaded: string[] }).builtinsLoaded;
  }

  it("runs without Node's ES module loader or node:module, for its whole life", async () => {
    const before = await baseline();
    const loaded = (await builtinsOfADaemon()).filter((m) => !before.includes(m));
    expect(loaded).toContain("tls");
    expect(loaded).toContain("http"); // its status server
    expect(loaded.filter((m) => m.startsWith("internal/modules/esm/"))).toEqual([]);
    for (const unused of ["module", "worker_threads", "http2"])
      expect(loaded).not.toContain(unused);
  });
});
