// Shared by the daemon tests: a Prometheus text parser, promtool, simulator configs, waiting.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import type { DaemonOptions } from "../../src/daemon/index.js";
import { diagnoseTarget } from "../../src/diagnose/run.js";
import type { Simulator } from "../../src/simulator/index.js";
import { simRun } from "../helpers.js";
import { cliEnv } from "../run-cli.js";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (0.0.4) back into samples; throws on a bad line. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
    const body = match[2] ?? "";
    let consumed = 0;
    for (let m = labelRe.exec(body); m; m = labelRe.exec(body)) {
      labels[m[1]!] = m[2]!.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
      consumed = labelRe.lastIndex;
    }
    if (consumed !== body.length) throw new Error(`bad labels: ${line}`);
    // Prometheus parses values with Go's ParseFloat: NaN and Inf in any case (prom-client writes "Nan").
    const raw = match[3]!.toLowerCase();
    const value = /^[+-]?inf$/.test(raw)
      ? raw.startsWith("-")
        ? -Infinity
        : Infinity
      : Number(raw);
    if (Number.isNaN(value) && raw !== "nan") throw new Error(`bad value: ${line}`);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** The samples of one metric whose labels include `where`. */
export function pick(
  samples: Sample[],
  name: string,
  where: Record<string, string> = {},
): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v),
  );
}

export function valueOf(samples: Sample[], name: string, where: Record<string, string>): number {
  const hits = pick(samples, name, where);
  if (hits.length !== 1)
    throw new Error(`${name}${JSON.stringify(where)}: ${hits.length} samples, want 1`);
  return hits[0]!.value;
}

export const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
/** In CI a missing promtool is a failure, not a skip (Debian package "prometheus"). */
export const requirePromtool = process.env.CI === "true";

export function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** A config for the simulator: loopback only, explicit resolver, no OS resolver comparison. */
export function simulatorConfig(
  sim: Simulator,
  opts: { name?: string; stages?: string[]; interval?: string; timeout?: string } = {},
): string {
  return [
    `timeout: ${opts.timeout ?? "1s"}`,
    `resolvers: ["${sim.dns.host}:${sim.dns.port}"]`,
    `caFile: ${JSON.stringify(sim.caFile)}`,
    // ::1: the second AZ where loopback holds 127.0.0.1 alone (macOS).
    `privateCidrs: [127.0.0.0/8, "::1/128"]`,
    `compareOs: false`,
    `daemon:`,
    `  interval: ${opts.interval ?? "200ms"}`,
    `  listen: 127.0.0.1:0`,
    `targets:`,
    `  - name: ${opts.name ?? "sim"}`,
    `    endpoint: ${sim.endpoint}`,
    `    apiId: ${sim.apiId}`,
    `    stages: [${(opts.stages ?? ["prod", "v2"]).join(", ")}]`,
    `    port: ${sim.port}`,
    ``,
  ].join("\n");
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The daemon's run of `sim`'s targets in the process running the tests: where the simulator's
 * second AZ is ::1 (loopback holds 127.0.0.1 alone, macOS), ::1 is tried whatever this host's
 * IPv6 connectivity (test/helpers.ts simRun). Spread into startDaemon's options.
 */
export function simDaemon(
  sim: Pick<Simulator, "addresses">,
): Pick<DaemonOptions, "diagnoseTarget"> {
  const opts = simRun(sim);
  if (!opts.ipv6) return {};
  return { diagnoseTarget: (target, run) => diagnoseTarget(target, { ...opts, ...run }) };
}

/** One JSON log line of a daemon started as a child process. */
export type LogLine = Record<string, unknown> & { event?: string; level?: number };

/** A daemon child process: its log lines as they come, its stderr, and how it ended. */
export interface DaemonChild {
  proc: ChildProcess;
  lines: LogLine[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `apigw-diag daemon ARGS` from the bundle, as a child process, with only the environment the test
 * gives it (no APIGW_DIAG_* from the environment running the tests).
 */
export function spawnDaemon(
  args: string[],
  { node = process.execPath, env = {} }: { node?: string; env?: NodeJS.ProcessEnv } = {},
): DaemonChild {
  const proc = spawn(node, ["dist/cli.js", "daemon", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: cliEnv({ APIGW_DIAG_LOG_LEVEL: "info", ...env }),
  });
  const lines: LogLine[] = [];
  let partial = "";
  proc.stdout!.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop() ?? "";
    for (const p of parts) if (p) lines.push(JSON.parse(p) as LogLine);
  });
  let err = "";
  proc.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { proc, lines, stderr: () => err, exited };
}
