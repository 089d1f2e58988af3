// Section 4, the daemon itself: `apigw-diag daemon` over the same 100 targets, its CPU read from
// /proc across a measuring window and divided by the checks it ran there (from its own
// apigw_diag_runs_total), its RSS sampled across the window.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { CLI, cpuMs, measuredNode, owned, rssMiB } from "./lib.js";

export interface RssSample {
  /** Seconds since the window opened. */
  s: number;
  /** Target runs since the window opened. */
  runs: number;
  rssMiB: number;
}

export interface DaemonCpu {
  /** Target runs in the window. */
  runs: number;
  cpuMs: number;
  /** Window length actually measured, in milliseconds. */
  windowMs: number;
  samples: RssSample[];
  /** RssAnon and RssFile (MiB) at the end of the window: the process's own pages, the mapped files'. */
  anonMiB: number;
  fileMiB: number;
}

export interface DaemonWindow {
  /** node flags before dist/cli.js. */
  nodeFlags: string[];
  warmupMs: number;
  /** The window ends after this long... */
  maxWindowMs: number;
  /** ...or once the daemon has run this many targets in it, whichever comes first. */
  maxRuns: number;
  sampleEveryMs: number;
  /** Added to this process's environment for the daemon (malloc and libuv settings). */
  env?: Record<string, string>;
}

const sumRuns = (metrics: string): number =>
  metrics
    .split("\n")
    .filter((l) => l.startsWith("apigw_diag_runs_total{"))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Warm-up, then the window on process `pid`: its CPU across it, its RSS every `sampleEveryMs`,
 * and the target runs it ended there (`runs()` counts them since it started).
 */
export async function measureWindow(
  pid: number,
  runs: () => Promise<number>,
  w: DaemonWindow,
): Promise<DaemonCpu> {
  await sleep(w.warmupMs);
  const [cpu0, runs0, t0] = [cpuMs(pid), await runs(), performance.now()];
  const samples: RssSample[] = [{ s: 0, runs: 0, rssMiB: rssMiB(pid) }];
  let done = 0;
  while (performance.now() - t0 < w.maxWindowMs && done < w.maxRuns) {
    await sleep(Math.min(w.sampleEveryMs, w.maxWindowMs - (performance.now() - t0)));
    done = (await runs()) - runs0;
    samples.push({ s: (performance.now() - t0) / 1000, runs: done, rssMiB: rssMiB(pid) });
  }
  const cpu = cpuMs(pid) - cpu0;
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return {
    runs: done,
    cpuMs: cpu,
    windowMs: performance.now() - t0,
    samples,
    anonMiB: kib("RssAnon") / 1024,
    fileMiB: kib("RssFile") / 1024,
  };
}

/** Runs the daemon on `config` (which must give it a short interval): warm-up, then the window. */
export async function daemonCpu(config: string, w: DaemonWindow): Promise<DaemonCpu> {
  const child = owned(
    spawn(
      measuredNode(),
      [...w.nodeFlags, CLI, "daemon", "--config", config, "--listen", "127.0.0.1:0"],
      { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...w.env } },
    ),
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
    const runs = async () =>
      sumRuns(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    return await measureWindow(child.pid as number, runs, w);
  } finally {
    child.kill("SIGTERM");
  }
}
