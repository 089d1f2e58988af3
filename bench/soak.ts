// Soak: the daemon in-process against the simulator (a child process), with faults rotating under it, a short
// interval and /metrics scraped all along, for thousands of runs. It prints RSS, heap, open file
// descriptors and event-loop delay at the start and at the end: they must stay flat (a leaked
// socket, timer or listener shows up here long before it shows up in production).
//
//   npm run soak                       # 120 s, 4 targets, 50 ms interval
//   npm run soak -- --seconds 60 --targets 8 --interval 20ms --timeout 250ms
//   SOAK_SECONDS=30 npm run soak
import { fork } from "node:child_process";
import { readdirSync } from "node:fs";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import pino from "pino";
import { resolveSettings } from "../src/config/load.js";
import { startDaemon } from "../src/daemon/index.js";
import type { Faults, StageBehaviour } from "../src/simulator/index.js";
import type { SimulatorMessage } from "./soak-simulator.js";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: process.env.SOAK_SECONDS ?? "120" },
    targets: { type: "string", default: "4" },
    interval: { type: "string", default: "50ms" },
    timeout: { type: "string", default: "250ms" },
    rotate: { type: "string", default: "1500" },
    window: { type: "string", default: "5000" },
  },
});
const seconds = Math.min(Number(args.seconds), 600);
const windowMs = Number(args.window);

/** Each step holds for `rotate` ms; together they walk every layer's failures and recoveries. */
const STEPS: { faults: Faults; stages?: Record<string, StageBehaviour> }[] = [
  { faults: {} },
  { faults: { address: { "127.0.0.2": "refuse" } } },
  { faults: { dns: "servfail" } },
  { faults: { address: { "127.0.0.1": "tls-stall" } } },
  { faults: {}, stages: { prod: "ok", v2: "deny" } },
  { faults: { address: { "127.0.0.2": "http-stall" } } },
  { faults: { dns: "timeout" } },
  { faults: { address: { "127.0.0.1": "untrusted-cert", "127.0.0.2": "tls-reset" } } },
  { faults: { dns: "public" } },
  { faults: { address: { "127.0.0.1": "http-garbage", "127.0.0.2": "proxy-403" } } },
  { faults: { dns: "truncate" }, stages: { prod: "backend-error", v2: "ok" } },
  { faults: { dns: "nxdomain" } },
];

interface Figures {
  rssMiB: number;
  heapMiB: number;
  fdsMin: number;
  fdsMax: number;
  lagP50ms: number;
  lagP99ms: number;
  lagMaxMs: number;
}

const openFds = () => readdirSync("/proc/self/fd").length;

/** Open descriptors sampled over a window: the count at one instant depends on the fault then. */
class FdSampler {
  private samples: number[] = [];
  private readonly timer = setInterval(() => this.samples.push(openFds()), 100);
  take(): { fdsMin: number; fdsMax: number } {
    const s = this.samples.length ? this.samples : [openFds()];
    this.samples = [];
    return { fdsMin: Math.min(...s), fdsMax: Math.max(...s) };
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

function figures(lag: IntervalHistogram, fds: FdSampler): Figures {
  (globalThis as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return {
    rssMiB: Math.round(mem.rss / 2 ** 20),
    heapMiB: Math.round((mem.heapUsed / 2 ** 20) * 10) / 10,
    ...fds.take(),
    lagP50ms: ms(lag.percentile(50)),
    lagP99ms: ms(lag.percentile(99)),
    lagMaxMs: ms(lag.max),
  };
}

interface SimInfo {
  endpoint: string;
  apiId: string;
  port: number;
  dns: { host: string; port: number };
  caFile: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const events = new Map<string, number>();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const m of chunk.toString().matchAll(/"event":"([a-z_]+)"/g))
        events.set(m[1]!, (events.get(m[1]!) ?? 0) + 1);
      done();
    },
  });
  const log = pino({ level: "debug" }, sink);
  const child = fork(new URL("./soak-simulator.js", import.meta.url), { stdio: "inherit" });
  const sim = await new Promise<SimInfo>((resolve) =>
    child.once("message", (m) => resolve(m as SimInfo)),
  );
  const control = (m: SimulatorMessage) => child.send(m);
  const targets = Array.from({ length: Number(args.targets) }, (_, i) => ({
    name: `t${i + 1}`,
    endpoint: sim.endpoint,
    apiId: sim.apiId,
    stages: ["prod", "v2"],
    port: sim.port,
  }));
  const settings = resolveSettings(
    {},
    {},
    {
      timeout: args.timeout,
      resolvers: [`${sim.dns.host}:${sim.dns.port}`],
      caFile: sim.caFile,
      privateCidrs: ["127.0.0.0/8"],
      compareOs: false,
      daemon: { interval: args.interval, listen: "127.0.0.1:0", maxConcurrentTargets: 4 },
      targets,
    },
  );
  const fdsBefore = openFds();
  const daemon = await startDaemon({ settings, log });
  const base = `http://127.0.0.1:${daemon.port}`;
  const scrapes = { ok: 0, failed: 0 };
  const deadline = Date.now() + seconds * 1000;
  let step = 0;
  const rotation = setInterval(() => {
    const s = STEPS[++step % STEPS.length]!;
    control({ type: "set", faults: s.faults, stages: s.stages ?? { prod: "ok", v2: "ok" } });
  }, Number(args.rotate));
  const scraping = (async () => {
    while (Date.now() < deadline) {
      for (const path of ["/metrics", "/healthz", "/report"]) {
        const res = await fetch(base + path).catch(() => undefined);
        if (res) await res.arrayBuffer();
        if (res?.status === 200) scrapes.ok++;
        else scrapes.failed++;
      }
      await sleep(250);
    }
  })();

  console.log(
    `soak: ${seconds}s, ${targets.length} targets x 2 stages x 2 addresses, interval ${args.interval}, ` +
      `timeout ${args.timeout}, ${STEPS.length} fault steps of ${args.rotate} ms; fds before daemon ${fdsBefore}`,
  );
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const fds = new FdSampler();
  await sleep(Math.min(windowMs, seconds * 500));
  const start = figures(lag, fds);
  const runsAtStart = events.get("run") ?? 0;
  const progress = setInterval(() => {
    const f = figures(lag, fds);
    const at = Math.round((Date.now() - deadline) / 1000 + seconds);
    console.log(
      `  ${at}s: runs ${events.get("run") ?? 0}, rss ${f.rssMiB} MiB, heap ${f.heapMiB} MiB, fds ${f.fdsMin}-${f.fdsMax}`,
    );
  }, 30_000);
  await sleep(Math.max(0, deadline - Date.now() - windowMs));
  clearInterval(progress);
  lag.reset();
  fds.take();
  await sleep(Math.max(0, deadline - Date.now()));
  const end = figures(lag, fds);
  lag.disable();
  fds.stop();
  clearInterval(rotation);
  await scraping;
  const metricsText = await (await fetch(`${base}/metrics`)).text();
  await daemon.stop("soak done");
  const exited = new Promise((resolve) => child.once("exit", resolve));
  control({ type: "close" });
  await exited;
  await sleep(200);
  const fdsAfter = openFds();

  const runs = events.get("run") ?? 0;
  const series = metricsText.split("\n").filter((l) => l.startsWith("apigw_diag_")).length;
  console.log(
    `runs: ${runs} (${runsAtStart} in the first window), run errors: ${events.get("run_error") ?? 0}`,
  );
  console.log(
    `verdict changes: ${events.get("verdict_change") ?? 0}, findings logged: ${events.get("finding") ?? 0}, ` +
      `scrapes ok/failed: ${scrapes.ok}/${scrapes.failed}, apigw_diag_* series at the end: ${series}`,
  );
  console.table({ start, end });
  console.log(`fds: ${fdsBefore} before the daemon, ${fdsAfter} after it stopped`);
  console.log(
    JSON.stringify({ soak: { seconds, runs, start, end, fdsBefore, fdsAfter, scrapes } }),
  );
  if (scrapes.failed > 0 || (events.get("run_error") ?? 0) > 0) process.exitCode = 1;
}

await main();
