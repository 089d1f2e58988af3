// Helpers shared by the benchmark sections: timed child processes, the standalone simulator,
// medians, and a check for the outside tools the yardsticks need.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ReadyLine } from "../src/simulator/main.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// What the bench starts must not outlive it: simulators (one inside the black hole's namespace,
// which cannot go while a process is in it), daemons, blackbox_exporter. They are killed at its
// exit, and an interrupt (SIGINT, SIGTERM) is an exit, so that every "exit" cleanup (the
// namespace, the cache home) runs then too. This handler is registered first, so it runs first.
const running = new Set<ChildProcess>();
/** `child`, killed when the bench exits if it has not ended by then. */
export function owned<T extends ChildProcess>(child: T): T {
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const)
  process.once(signal, () => process.exit(code));
/** The bin, started as npm's link starts it: `node dist/cli.js`. */
export const CLI = path.join(ROOT, "dist/cli.js");
export const CLI_ARGV = [CLI];
/** The Dockerfile's value of ENV `name`, quoted or not. */
function dockerEnv(name: string): string {
  const m = new RegExp(`${name}=(?:"([^"]*)"|(\\S+))`).exec(
    readFileSync(path.join(ROOT, "Dockerfile"), "utf8"),
  );
  if (!m) throw new Error(`Dockerfile: no ${name}`);
  return m[1] ?? m[2] ?? "";
}
/** The daemon's node flags as the container gives them (the Dockerfile's ENV, its entrypoint). */
export const daemonFlags = (): string[] =>
  dockerEnv("APIGW_DIAG_DAEMON_NODE_FLAGS").split(/\s+/).filter(Boolean);
/** Environment the image sets for the daemon besides its flags: none today. */
export const DAEMON_ENV: Record<string, string> = {};
/**
 * The node that runs what is measured: diagnose, the floor, `node -e 0`, the daemon and the CPU
 * worker. The bench's own node by default; `--node FILE` measures another line (the container's,
 * say) while the simulator and the yardsticks stay as they are.
 */
let measured = process.execPath;
export const measuredNode = (): string => measured;

/** Makes `file` the measured node; returns its version, or throws when it does not run. */
export function useNode(file: string): string {
  const r = spawnSync(file, ["--version"], { encoding: "utf8" });
  const version = r.status === 0 ? r.stdout.trim() : "";
  if (!/^v\d+\./.test(version)) throw new Error(`--node ${file}: does not run as node`);
  measured = file;
  return version;
}

/**
 * NODE_EXTRA_CA_CERTS is the host's, not the tool's: Node 20 reads it, and its own roots with it,
 * at every start before any script runs (38 ms per start on the machine of docs/performance.md,
 * `node -e 0` included). So the bench unsets it for every process it starts unless told to keep
 * it; returns what it unset.
 */
export function withoutExtraCa(keep: boolean): string | undefined {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (file === undefined || keep) return undefined;
  delete process.env.NODE_EXTRA_CA_CERTS;
  return file;
}

/**
 * A cache home of the bench's own for what it starts, removed when the bench exits: apigw-diag
 * keeps Node's compile cache under it (src/compile-cache.ts), one directory per node version and
 * V8 flag set, and a bench run tries many (every daemon variant). Warm-up runs fill it, as a
 * user's first run fills theirs.
 */
export function ownCacheHome(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "apigw-bench-cache-"));
  process.env.XDG_CACHE_HOME = dir;
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The CA bundle Debian's curl (and OpenSSL) trust by default, read by every curl that starts. */
export const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

export const SIMULATOR = path.join(ROOT, "dist/simulator/main.js");
export const RUNBOOK = path.join(ROOT, "bench/runbook.sh");

export type SimInfo = ReadyLine;

export interface Running {
  info: SimInfo;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `dist/simulator/main.js` (optionally behind a prefix such as `ip netns exec NAME`). */
export function startSimulator(args: string[], prefix: string[] = []): Promise<Running> {
  const argv = [...prefix, process.execPath, SIMULATOR, ...args];
  const [cmd, ...rest] = argv as [string, ...string[]];
  const child = owned(spawn(cmd, rest, { stdio: ["ignore", "pipe", "pipe"] }));
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) resolve({ info: JSON.parse(line) as SimInfo, child, stop });
    });
    child.once("exit", (code) => reject(new Error(`simulator exited ${code}: ${stderr.trim()}`)));
  });
}

export interface Timed {
  ms: number;
  code: number | null;
  stdout: string;
}

/** Wall time of one child process, from spawn to exit, stdout kept. */
export function timed(
  cmd: string,
  args: string[],
  stderr: "ignore" | "inherit" = "ignore",
): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = owned(spawn(cmd, args, { stdio: ["ignore", "pipe", stderr] }));
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ ms: performance.now() - started, code, stdout }));
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

/**
 * Runs the commands in turn, `reps` rounds after `warmup` unmeasured ones, so that a noisy
 * neighbour slows both sides alike; returns every sample per command.
 */
export async function interleaved(
  commands: { cmd: string; args: string[]; check?: (t: Timed) => string | undefined }[],
  reps: number,
  warmup = 2,
): Promise<number[][]> {
  const samples = commands.map(() => [] as number[]);
  for (let round = 0; round < warmup + reps; round++) {
    for (const [i, c] of commands.entries()) {
      const t = await timed(c.cmd, c.args);
      const problem = c.check?.(t);
      if (problem) throw new Error(`${c.cmd} ${c.args.join(" ")}: ${problem}`);
      if (round >= warmup) samples[i]?.push(t.ms);
    }
  }
  return samples;
}

/** Which of the named programs are not on PATH. */
export function missing(tools: string[]): string[] {
  return tools.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
}

export const APT_HINT =
  "apt-get install hyperfine bind9-dnsutils curl prometheus-blackbox-exporter";

/** utime + stime of a process, in milliseconds, from /proc/PID/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / clockTicks();
}

/** Resident set size of a process in MiB, from /proc/PID/status. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

let ticks: number | undefined;
function clockTicks(): number {
  ticks ??= Number(spawnSync("getconf", ["CLK_TCK"]).stdout.toString().trim()) || 100;
  return ticks;
}

export const fmt = (ms: number): string => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

export interface Figure {
  section: string;
  label: string;
  value: string;
  goal: string;
  met: boolean | undefined;
  note?: string;
}
