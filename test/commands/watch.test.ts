// `diagnose --watch` as a user runs it: the built CLI against the simulator on loopback, with a
// fault switched off mid-run.
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { cliEnv, diagnoseFlags } from "../run-cli.js";

let sim: Simulator;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // One address: 127.0.0.1 is the one loopback address every platform has.
  sim = await startSimulator({ addresses: ["127.0.0.1"], stages: { prod: "ok" } });
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  sim.setFaults({});
});
afterAll(() => sim.close());

interface Watched {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the stdout so far once `pattern` appears in it. */
  waitFor: (pattern: RegExp) => Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function watch(args: string[]): Watched {
  const child = spawn(process.execPath, ["dist/cli.js", ...diagnoseFlags(sim), ...args], {
    env: cliEnv({ APIGW_DIAG_COMPARE_OS: "false" }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  let err = "";
  const waiters: { pattern: RegExp; resolve: (s: string) => void }[] = [];
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0))
      if (w.pattern.test(out)) w.resolve(out);
      else waiters.push(w);
  });
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor: (pattern) =>
      pattern.test(out)
        ? Promise.resolve(out)
        : new Promise((resolve) => waiters.push({ pattern, resolve })),
    exited,
  };
}

const lines = (text: string) => text.split("\n").filter((l) => /^\d\d:\d\d:\d\d {2}/.test(l));

describe("diagnose --watch", () => {
  it("exits 0 within two intervals of a fault being cleared, having printed FIXED", async () => {
    sim.setFaults({ address: { "127.0.0.1": "refuse" } });
    const intervalMs = 2000;
    const w = watch(["--watch", "2s", "--until", "healthy", "--timeout", "1s", "--format", "text"]);
    await w.waitFor(/FAILING.*TCP_REFUSED[^\n]*\n(.*\n)*?.*\d\d:\d\d:\d\d {2}FAILING .*no change/);
    // Cleared right after a run: the next run is at most one interval away.
    sim.setFaults({});
    const cleared = performance.now();
    const { code } = await w.exited;
    const tookMs = performance.now() - cleared;
    expect(code, w.stderr()).toBe(0);
    const out = w.stdout();
    expect(out).toMatch(/FIXED after \d+s: was failing \(TCP_REFUSED\)/);
    const runs = lines(out);
    expect(runs[0]).toMatch(/FAILING +TCP_REFUSED on 1 of 1 address {2}· first run$/);
    expect(runs.at(-1)).toMatch(
      /HEALTHY +every stage answers {2}· failing -> healthy, cause TCP_REFUSED -> none/,
    );
    // The full report: on the first run and when the verdict changed, not on the unchanged run.
    expect(out.match(/cause: TCP_REFUSED/g)).toHaveLength(1);
    expect(out.match(/^HEALTHY +cli:/gm)).toHaveLength(1);
    // The bound is the behaviour: two intervals.
    expect(tookMs).toBeLessThan(2 * intervalMs);
  });

  it("prints one JSON document per line per run, with what the watch saw", async () => {
    sim.setFaults({ address: { "127.0.0.1": "refuse" } });
    const w = watch(["--watch", "1s", "--until", "healthy", "--timeout", "1s", "--format", "json"]);
    await w.waitFor(/\n.*\n/); // two runs
    sim.setFaults({});
    const { code } = await w.exited;
    expect(code, w.stderr()).toBe(0);
    const docs = w
      .stdout()
      .trimEnd()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            verdict: string;
            exitCode: number;
            watch: { run: number; fixed: unknown[] };
          },
      );
    expect(docs.length).toBeGreaterThanOrEqual(3);
    expect(docs.map((d) => d.watch.run)).toEqual(docs.map((_, i) => i + 1));
    expect(docs[0]).toMatchObject({ verdict: "failing", exitCode: 2, schemaVersion: 1 });
    expect(docs.at(-1)).toMatchObject({
      verdict: "healthy",
      exitCode: 0,
      watch: { fixed: [{ target: "cli", was: "failing", cause: "TCP_REFUSED" }] },
    });
  });

  it("ends with exit 3 on Ctrl-C, saying after how many runs", async () => {
    const w = watch(["--watch", "1s", "--timeout", "1s", "--format", "text"]);
    await w.waitFor(/HEALTHY +every stage answers {2}· first run/);
    w.child.kill("SIGINT");
    const { code } = await w.exited;
    expect(code).toBe(3);
    expect(w.stderr()).toMatch(/^apigw-diag: interrupted after 1 run \(\d+s watching\)$/m);
  });

  it("--until healthy on a healthy endpoint ends at the first run", async () => {
    const w = watch(["--until", "healthy", "--timeout", "1s", "--format", "text"]);
    const { code } = await w.exited;
    expect(code, w.stderr()).toBe(0);
    expect(lines(w.stdout())).toHaveLength(1);
  });

  it.each([
    [["--watch", "100ms"], "apigw-diag: --watch: an interval of at least 1s"],
    [["--watch", "soon"], 'apigw-diag: --watch: "soon" is not a duration (try 500ms, 5s, 1m)'],
    [
      ["--until", "fixed"],
      'apigw-diag: Invalid values: Argument: until, Given: "fixed", Choices: "healthy"',
    ],
  ])("refuses %j in one line, exit 3", async (args, message) => {
    const w = watch(args);
    const { code } = await w.exited;
    expect(code).toBe(3);
    expect(w.stderr()).toBe(`${message}\n`);
    expect(w.stdout()).toBe("");
  });
});
