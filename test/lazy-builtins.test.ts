// A healthy one-shot diagnose loads only the built-in modules it needs: each one more is compiled
// from source at every start (the bin's V8 flag keeps V8 from Node's cached code for them).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../src/simulator/index.js";
import { cliEnv, diagnoseFlags } from "./run-cli.js";

const PRELOAD = "./test/fixtures/modules-loaded.mjs";

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
      ["--import", PRELOAD, ...argv],
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

/** What a healthy diagnose (as the bench runs it) loads beyond an empty ES module. */
async function builtinsOfADiagnose(): Promise<string[]> {
  const empty = path.join(tmp, "empty.mjs");
  writeFileSync(empty, "");
  const baseline = await builtinsLoaded([empty], () => {});
  const argv = [...diagnoseFlags(sim, { stages: ["prod", "v2"] }), "--timeout=2s"];
  const loaded = await builtinsLoaded(
    ["dist/cli.js", ...argv, "--format=json", "--log-level=silent"],
    (stdout) => expect(JSON.parse(stdout)).toMatchObject({ verdict: "healthy" }),
  );
  return loaded.filter((m) => !baseline.includes(m));
}

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
