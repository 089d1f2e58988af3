// A healthy one-shot diagnose loads only the built-in modules it needs: each one more is compiled
// from source at every start (the bin's V8 flag keeps V8 from Node's cached code for them).
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../src/simulator/index.js";
import { diagnoseFlags } from "./run-cli.js";

const PRELOAD = "./test/fixtures/modules-loaded.mjs";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ stages: { prod: "ok", v2: "ok" } });
});
afterAll(async () => {
  await sim.close();
});

/** The built-in modules a healthy diagnose (as the bench runs it) loaded. */
function builtinsOfADiagnose(): Promise<string[]> {
  const argv = [...diagnoseFlags(sim, { stages: ["prod", "v2"] }), "--timeout=2s"];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", PRELOAD, "dist/cli.js", ...argv, "--format=json", "--log-level=silent"],
      { env: { PATH: process.env.PATH }, timeout: 20_000 },
      (err, stdout, stderr) => {
        if (err) return reject(err);
        expect(JSON.parse(stdout)).toMatchObject({ verdict: "healthy" });
        const line = stderr.split("\n").find((l) => l.startsWith('{"builtinsLoaded"'));
        resolve((JSON.parse(line ?? "{}") as { builtinsLoaded: string[] }).builtinsLoaded);
      },
    );
  });
}

describe("a healthy one-shot diagnose", () => {
  it("does not load HTTP/2 (undici's HTTP/2 half is evaluated on first use only)", async () => {
    const loaded = await builtinsOfADiagnose();
    expect(loaded).toContain("tls");
    expect(loaded).not.toContain("http2");
  });
});
