// Issue 11: a run cancelled by the user is reported as interrupted, never as a timeout it did not
// wait for; one connection limit holds across every target of a run.
import { spawn } from "node:child_process";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import pLimit from "p-limit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { diagnose as runAll, type RunOptions } from "../../src/diagnose/run.js";
import type { PreparedTarget } from "../../src/config/prepare.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { renderText } from "../../src/report/text.js";
import type { Report } from "../../src/types.js";
import { cliTriesSecond, second, simRun, simTarget } from "../helpers.js";
import { cliEnv, diagnoseFlags } from "../run-cli.js";

let sim: Simulator;
/** The second AZ's address: 127.0.0.2, or ::1 where loopback holds 127.0.0.1 alone (macOS). */
let b: string;
const diagnose = (targets: PreparedTarget[], o: RunOptions = {}) =>
  runAll(targets, { ...simRun(sim), ...o });
beforeAll(async () => {
  sim = await startSimulator();
  b = second(sim);
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.setStages({ prod: "ok", v2: "ok" });
  sim.setFaults({});
});

describe("a cancelled run", () => {
  it("marks what did not finish as unfinished, with no timeout code, and exits 3", async () => {
    // The second address takes the ClientHello and never answers: only the cancel can end those checks.
    sim.setFaults({ address: { [b]: "tls-stall" } });
    const controller = new AbortController();
    const target = simTarget(sim, { timeout: "30s" });
    // 127.0.0.1 answered both stages, and the client has read both answers: the server seeing a
    // request does not mean its answer was read before the abort.
    let answered = 0;
    const count = () => answered++;
    subscribe("undici:request:trailers", count);
    const running = diagnose([target], { signal: controller.signal });
    await waitUntil(() => answered >= 2).finally(() =>
      unsubscribe("undici:request:trailers", count),
    );
    controller.abort();
    const report = await running;
    const [t] = report.targets;
    expect(report).toMatchObject({ interrupted: true, exitCode: 3 });
    expect(t?.findings.map((f) => f.code)).not.toContain("TLS_TIMEOUT");
    expect(t?.findings.filter((f) => f.code === "HTTP_OK").map((f) => f.address)).toEqual([
      "127.0.0.1",
      "127.0.0.1",
    ]);
    expect(t?.unfinished).toEqual([
      { layer: "tls", address: b, stage: "prod" },
      { layer: "tls", address: b, stage: "v2" },
    ]);
    expect(t?.skipped).toContainEqual(expect.objectContaining({ address: b, layers: ["http"] }));
    // The text report leads with the interruption, not with a verdict of its own.
    const text = renderText(report, { color: false });
    expect(text.split("\n")[0]).toMatch(/^INTERRUPTED after \d+ ms/);
    expect(text).toMatch(/^UNFINISHED \(degraded so far\) /m);
    expect(text).toContain(`not finished on ${b} prod: tls (interrupted)`);
    // Address, AZ, source (the kernel's: 127.0.0.1 toward 127.0.0.2, ::1 toward ::1), interface.
    const source = b === "::1" ? "::1" : "127.0.0.1";
    const row = new RegExp(`${escape(b)} +- +${escape(source)} +lo +prod +TCP_OK +UNFINISHED`);
    expect(text).toMatch(row);
    expect(text).not.toContain("TIMEOUT");
  });

  it("cancelled before DNS answered: the resolver is unfinished, not DNS_TIMEOUT", async () => {
    sim.setFaults({ dns: "timeout" });
    const controller = new AbortController();
    const running = diagnose([simTarget(sim, { timeout: "30s" })], { signal: controller.signal });
    await waitUntil(() => sim.stats().dnsQueries >= 2);
    controller.abort();
    const report = await running;
    const [t] = report.targets;
    expect(report.exitCode).toBe(3);
    expect(t?.findings).toEqual([]);
    expect(t?.unfinished).toEqual([{ layer: "dns", resolver: `127.0.0.1:${sim.dns.port}` }]);
  });

  it("shares one connection limit across every target of the run", async () => {
    let active = 0;
    let most = 0;
    const inner = pLimit(1);
    const counting = Object.assign(
      <T>(task: () => Promise<T>) =>
        inner(async () => {
          most = Math.max(most, ++active);
          try {
            return await task();
          } finally {
            active--;
          }
        }),
      inner,
    ) as typeof inner;
    const report = await diagnose([simTarget(sim), { ...simTarget(sim), name: "second" }], {
      limit: counting,
    });
    expect(report.targets.map((t) => t.verdict)).toEqual(["healthy", "healthy"]);
    expect(most).toBe(1);
  });
});

describe("the CLI interrupted", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    // Where the second address is ::1 and this host has no IPv6 connectivity, the CLI does not
    // try it (--family auto): nothing stalls, so there is nothing to interrupt.
    it.skipIf(!cliTriesSecond)(
      `prints what finished, one stderr line and exits 3 on ${signal}`,
      async () => {
        sim.setFaults({ address: { [b]: "tls-stall" } });
        const child = spawn(
          process.execPath,
          ["dist/cli.js", ...diagnoseFlags(sim), "--timeout=30s", "--format=json"],
          {
            stdio: ["ignore", "pipe", "pipe"],
            // The logs (pino, stderr) off: what is left on stderr is the one line for a person.
            env: cliEnv({ APIGW_DIAG_LOG_LEVEL: "silent" }),
          },
        );
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
        const requests = sim.stats().requests;
        await waitUntil(() => sim.stats().requests > requests);
        const sent = Date.now();
        child.kill(signal);
        const code = await exited;
        // The design allows 1 s for every probe to stop; 2x margin on a shared machine.
        expect(Date.now() - sent).toBeLessThan(2_000);
        expect(code).toBe(3);
        expect(stderr).toMatch(/^apigw-diag: interrupted after \d+ ms\n$/);
        const report = JSON.parse(stdout) as Report;
        expect(report).toMatchObject({ interrupted: true, exitCode: 3 });
        expect(report.targets[0]?.findings.some((f) => f.code.endsWith("_TIMEOUT"))).toBe(false);
        expect(report.targets[0]?.unfinished).toEqual([
          { layer: "tls", address: b, stage: "prod" },
        ]);
      },
    );
  }
});

async function waitUntil(ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
