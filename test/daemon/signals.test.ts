// The built CLI as a real child process: it learns its port from the "listening" log line, keeps
// running on a SIGHUP with a broken config, reloads a good one, and exits 0 soon after SIGTERM.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { containerNode } from "../run-cli.js";
import { cliTriesSecond, second } from "../helpers.js";
import { simulatorConfig, spawnDaemon, waitFor, type DaemonChild } from "./helpers.js";

type Child = DaemonChild;

function startCli(config: string, node = process.execPath): Child {
  return spawnDaemon(["--config", config, "--listen", "127.0.0.1:0"], { node });
}

// On the Node running the tests, and on the container's line when one is given (.ci/run gives
// one).
const container = containerNode();
const NODES: [string, string][] = [
  ["the Node running the tests", process.execPath],
  ...(container ? ([["the container's Node line", container]] as [string, string][]) : []),
];

const count = (c: Child, event: string) => c.lines.filter((l) => l.event === event).length;

describe("daemon signals (child process)", () => {
  let sim: Simulator;
  let dir: string;
  let child: Child | undefined;
  beforeAll(async () => {
    sim = await startSimulator({ stages: { prod: "ok", v2: "ok" } });
    dir = mkdtempSync(path.join(os.tmpdir(), "apigw-daemon-signals-"));
  });
  afterAll(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    if (child && child.proc.exitCode === null && child.proc.signalCode === null) {
      child.proc.kill("SIGKILL");
      await child.exited;
    }
    child = undefined;
  });

  it.each(NODES)(
    "reloads on SIGHUP, keeps the old config when the new one is invalid, exits 0 on SIGTERM (%s)",
    async (_, node) => {
      const config = path.join(dir, "daemon.yaml");
      writeFileSync(config, simulatorConfig(sim, { interval: "200ms" }));
      const c = (child = startCli(config, node));
      const listening = await waitFor("listening", () =>
        c.lines.find((l) => l.event === "listening"),
      );
      const base = `http://127.0.0.1:${listening.port as number}`;
      await waitFor("a run", () => count(c, "run") > 0 || undefined);

      writeFileSync(config, "targets: [\n  - name: broken\n");
      c.proc.kill("SIGHUP");
      const failed = await waitFor("reload_failed", () =>
        c.lines.find((l) => l.event === "reload_failed"),
      );
      expect(failed.level).toBe(50);
      expect(failed.reason).toMatch(/not valid YAML or JSON/);
      const runsBefore = count(c, "run");
      await waitFor("runs to go on", () => count(c, "run") > runsBefore + 1 || undefined);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(c.lines.filter((l) => l.event === "run").every((l) => l.target === "sim")).toBe(true);

      writeFileSync(config, simulatorConfig(sim, { name: "renamed", interval: "200ms" }));
      c.proc.kill("SIGHUP");
      await waitFor("reload", () => c.lines.find((l) => l.event === "reload"));
      await waitFor("a run of the renamed target", () =>
        c.lines.find((l) => l.event === "run" && l.target === "renamed"),
      );
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/apigw_diag_target_verdict\{target="renamed",verdict="healthy"\} 1/);
      expect(metrics).not.toMatch(/target="sim"/);

      const sent = Date.now();
      c.proc.kill("SIGTERM");
      const { code } = await c.exited;
      expect(code).toBe(0);
      expect(Date.now() - sent).toBeLessThan(5_000);
      expect(c.lines.at(-1)).toMatchObject({ event: "stopped" });
      expect(c.stderr()).toBe("");
    },
  );

  it("exits 3 with one line at start when its caFile cannot be read", async () => {
    const config = path.join(dir, "no-ca.yaml");
    writeFileSync(
      config,
      simulatorConfig(sim).replace(JSON.stringify(sim.caFile), JSON.stringify(`${dir}/none.pem`)),
    );
    const c = (child = startCli(config));
    const { code } = await c.exited;
    expect(code).toBe(3);
    expect(c.stderr()).toMatch(/^apigw-diag: --ca-file .*none\.pem: cannot read \(ENOENT\)\n$/);
    expect(count(c, "listening")).toBe(0);
  });

  it("refuses a reload to a config whose caFile cannot be read, and keeps diagnosing", async () => {
    const config = path.join(dir, "ca-gone.yaml");
    writeFileSync(config, simulatorConfig(sim, { interval: "100ms" }));
    const c = (child = startCli(config));
    await waitFor("a run", () => count(c, "run") > 0 || undefined);
    writeFileSync(
      config,
      simulatorConfig(sim, { interval: "100ms" }).replace(
        JSON.stringify(sim.caFile),
        JSON.stringify(`${dir}/gone.pem`),
      ),
    );
    c.proc.kill("SIGHUP");
    const failed = await waitFor("reload_failed", () =>
      c.lines.find((l) => l.event === "reload_failed"),
    );
    expect(failed.reason).toMatch(/gone\.pem: cannot read/);
    const runs = count(c, "run");
    await waitFor("runs to go on", () => count(c, "run") > runs + 1 || undefined);
    expect(c.lines.some((l) => l.event === "run_error")).toBe(false);
    expect(c.lines.filter((l) => l.event === "run").at(-1)).toMatchObject({ verdict: "healthy" });
  });

  // Where the second address is ::1 and this host has no IPv6 connectivity, the daemon does not
  // try it (--family auto): nothing stalls, so no run is in the middle when SIGINT comes.
  it.skipIf(!cliTriesSecond)(
    "exits 0 on SIGINT in the middle of a slow run, aborting it at the deadline",
    async () => {
      // Every connection to the second address stalls in the TLS handshake for the whole 10 s timeout.
      sim.setFaults({ address: { [second(sim)]: "tls-stall" } });
      try {
        const config = path.join(dir, "slow.yaml");
        writeFileSync(config, simulatorConfig(sim, { interval: "100ms", timeout: "10s" }));
        const before = sim.stats().connections;
        const c = (child = startCli(config));
        await waitFor("listening", () => c.lines.find((l) => l.event === "listening"));
        await waitFor(
          "both addresses connected",
          () => sim.stats().connections >= before + 2 || undefined,
        );
        await new Promise((r) => setTimeout(r, 200)); // 127.0.0.1 answers; the second stalls
        const sent = Date.now();
        c.proc.kill("SIGINT");
        const { code } = await c.exited;
        expect(code).toBe(0);
        expect(Date.now() - sent).toBeLessThan(6_000);
        expect(c.lines.find((l) => l.event === "stopped")).toMatchObject({
          aborted: 1,
          unfinished: 0,
        });
        // The aborted run is not an observation of the path: no verdict from it.
        expect(count(c, "run")).toBe(0);
      } finally {
        sim.setFaults({});
      }
    },
  );
});
