// Section 4, the daemon itself: `apigw-diag daemon` over the same 100 targets, its CPU read from
// /proc across a measuring window and divided by the checks it ran there (from its own
// apigw_diag_runs_total), its RSS at the end.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CLI, cpuMs, rssMiB } from "./lib.js";

export interface DaemonCpu {
  runs: number;
  cpuMs: number;
  rssMiB: number;
}

const sumRuns = (metrics: string): number =>
  metrics
    .split("\n")
    .filter((l) => l.startsWith("apigw_diag_runs_total{"))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);

/** Runs the daemon on `config` (which must give it a short interval), `warmupMs` then `windowMs`. */
export async function daemonCpu(
  config: string,
  warmupMs: number,
  windowMs: number,
): Promise<DaemonCpu> {
  const child = spawn(
    process.execPath,
    [CLI, "daemon", "--config", config, "--listen", "127.0.0.1:0"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      const timer = setTimeout(() => reject(new Error("daemon did not start listening")), 15_000);
      lines.on("line", (line) => {
        if (!line.includes('"event":"listening"')) return;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      });
      child.once("exit", (code) => reject(new Error(`daemon exited ${code}`)));
    });
    child.stdout.resume(); // its run lines are not read, only drained
    const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const pid = child.pid as number;
    await new Promise((r) => setTimeout(r, warmupMs));
    const [cpu0, runs0] = [cpuMs(pid), sumRuns(await metrics())];
    await new Promise((r) => setTimeout(r, windowMs));
    const [cpu1, runs1] = [cpuMs(pid), sumRuns(await metrics())];
    return { runs: runs1 - runs0, cpuMs: cpu1 - cpu0, rssMiB: rssMiB(pid) };
  } finally {
    child.kill("SIGTERM");
  }
}
