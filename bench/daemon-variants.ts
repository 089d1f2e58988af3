// The daemon at 100 targets under several node flags and environments, one after the other in
// rounds (a noisy neighbour then weighs on every variant alike): RSS and CPU per check of each.
//   npm run bench:variants -- [--window SECONDS] [--rounds N] [--only NAME,NAME] [--node FILE]
//                             [--keep-extra-ca] [--against OTHER/dist/cli.cjs]
// Each variant starts from the container's node flags for the measured node (the Dockerfile's
// ENV through its entrypoint: bench/lib.ts's daemonFlags()), and its environment replaces the container's APIGW_DIAG_DAEMON_ENV:
// "shipped" is the container's daemon, "flags-only" the same without that environment.
// The floor variants run bench/daemon-floor.cjs, the daemon's network work by the smallest Node
// program, on the same targets instead: "floor" as bare node, "floor-daemon-flags" under the
// container's flags and environment.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  DAEMON_ENV,
  daemonFlags,
  fmt,
  ownCacheHome,
  startSimulator,
  useNode,
  withoutExtraCa,
} from "./lib.js";
import { configFor } from "./cpu.js";
import { daemonCpu, type DaemonWindow } from "./daemon-cpu.js";
import { daemonFloorCpu } from "./daemon-floor.js";
import { STAGES, healthyEndpoint } from "./stages.js";

interface Variant {
  name: string;
  flags: string[];
  env?: Record<string, string>;
  /** bench/daemon-floor.cjs instead of the daemon, under `flags` and `env` alone (no base). */
  floor?: true;
  /** A floor variant under the container's flags too. */
  shippedFlags?: true;
}

const JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
const TRIM = { MALLOC_TRIM_THRESHOLD_: "131072", MALLOC_TOP_PAD_: "0" };
const VARIANTS: Variant[] = [
  { name: "shipped", flags: [] },
  { name: "flags-only", flags: [], env: {} },
  { name: "uv-threadpool-1", flags: [], env: { UV_THREADPOOL_SIZE: "1" } },
  { name: "malloc-arena-1", flags: [], env: { MALLOC_ARENA_MAX: "1" } },
  { name: "malloc-trim", flags: [], env: TRIM },
  { name: "malloc-trim-512k", flags: [], env: { ...TRIM, MALLOC_TRIM_THRESHOLD_: "524288" } },
  { name: "malloc-trim-1m", flags: [], env: { ...TRIM, MALLOC_TRIM_THRESHOLD_: "1048576" } },
  { name: "malloc-arena-2-trim", flags: [], env: { MALLOC_ARENA_MAX: "2", ...TRIM } },
  { name: "malloc-arena-1-trim", flags: [], env: { MALLOC_ARENA_MAX: "1", ...TRIM } },
  {
    name: "malloc-trim-mmap",
    flags: [],
    env: { MALLOC_MMAP_THRESHOLD_: "65536", ...TRIM },
  },
  {
    name: "arena-1-trim-no-conc",
    flags: ["--no-concurrent-recompilation"],
    env: { MALLOC_ARENA_MAX: "1", ...TRIM },
  },
  { name: "jemalloc", flags: [], env: { LD_PRELOAD: JEMALLOC } },
  { name: "max-lazy", flags: ["--max-lazy"] },
  { name: "no-opt", flags: ["--no-opt"] },
  { name: "max-old-64", flags: ["--max-old-space-size=64"] },
  // Third round: less compiled code, fewer threads, on top of the shipped daemon.
  { name: "no-sparkplug", flags: ["--no-sparkplug"] },
  { name: "no-turbo-inlining", flags: ["--no-turbo-inlining"] },
  { name: "single-threaded", flags: ["--single-threaded"] },
  { name: "v8-pool-1", flags: ["--v8-pool-size=1"] },
  { name: "no-sparkplug-pool-1", flags: ["--no-sparkplug", "--v8-pool-size=1"] },
  {
    name: "lean-semi-2",
    flags: ["--no-sparkplug", "--v8-pool-size=1", "--max-semi-space-size=2"],
  },
  {
    name: "lean-semi-4",
    flags: ["--no-sparkplug", "--v8-pool-size=1", "--max-semi-space-size=4"],
  },
  {
    name: "trim-128k",
    flags: [],
    env: { ...DAEMON_ENV, MALLOC_TRIM_THRESHOLD_: "131072" },
  },
  { name: "budget-4x", flags: ["--interrupt-budget=270336"] },
  { name: "compact-every-gc", flags: ["--compact-on-every-full-gc"] },
  { name: "budget-16x", flags: ["--interrupt-budget=1081344"] },
  {
    name: "trim-128k-growing-10",
    flags: ["--heap-growing-percent=10"],
    env: { ...DAEMON_ENV, MALLOC_TRIM_THRESHOLD_: "131072" },
  },
  {
    name: "lean-growing-10",
    flags: ["--no-sparkplug", "--v8-pool-size=1", "--heap-growing-percent=10"],
  },
  { name: "arena-2", flags: [], env: { ...DAEMON_ENV, MALLOC_ARENA_MAX: "2" } },
  {
    name: "threads-min",
    flags: ["--single-threaded-gc", "--v8-pool-size=1"],
    env: { UV_THREADPOOL_SIZE: "1", MALLOC_ARENA_MAX: "1" },
  },
  // Fifth round, Node 22 (the container's line): its mid-tier compiler, and V8's code for it.
  { name: "no-maglev", flags: ["--no-maglev"] },
  { name: "no-maglev-no-turbo-inlining", flags: ["--no-maglev", "--no-turbo-inlining"] },
  // undici's llhttp WebAssembly: optimized by TurboFan as V8 does by default (the container keeps
  // it in Liftoff, sixth round), or compiled function by function on first call.
  { name: "wasm-tier-up", flags: ["--no-liftoff-only"] },
  { name: "wasm-lazy", flags: ["--wasm-lazy-compilation"] },
  // Bytecode of functions that ran once (start-up, the config) flushed after 2 full GCs, not 6.
  { name: "bytecode-old-age-2", flags: ["--bytecode-old-age=2"] },
  // Node 22 ships with Maglev off: Maglev as the only optimizing tier instead of TurboFan, and
  // V8's efficiency mode (fewer threads, TurboFan deferred).
  { name: "maglev-only", flags: ["--no-opt", "--maglev"] },
  { name: "efficiency-mode", flags: ["--efficiency-mode"] },
  // Sixth round, Node 22, with llhttp kept in Liftoff: no TurboFan but the baseline tier
  // (Sparkplug) back; TurboFan for 10x fewer functions (a Node 22 flag: Node 20's V8 has
  // --interrupt-budget instead); TurboFan for small functions only; TurboFan on the main thread.
  { name: "no-opt-sparkplug", flags: ["--no-opt", "--sparkplug"] },
  { name: "turbofan-10x-later", flags: ["--invocation-count-for-turbofan=30000"] },
  { name: "turbofan-small-only", flags: ["--max-optimized-bytecode-size=8192"] },
  { name: "no-concurrent-turbofan", flags: ["--no-concurrent-recompilation"] },
  // Seventh round: V8's heap limit grows by at least 8 MiB over what a full GC kept; with
  // --optimize-for-size each full GC also compacts and gives pages back ("reduce"). The lean
  // flags (APIGW_DIAG_DAEMON_LEAN_FLAGS) are shipped on Node 22 and later: "lean" adds them where
  // they are not (Node 20), "no-lean" takes them away where they are, and "optimize-for-size"
  // is the heap half alone.
  { name: "lean", flags: ["--optimize-for-size", "--no-turbo-inlining"] },
  { name: "no-lean", flags: ["--no-optimize-for-size", "--turbo-inlining"] },
  { name: "optimize-for-size", flags: ["--optimize-for-size"] },
  // What any Node program needs for the daemon's work: the floor, bare and as the daemon is run.
  { name: "floor", flags: [], env: {}, floor: true },
  { name: "floor-daemon-flags", flags: [], env: DAEMON_ENV, floor: true, shippedFlags: true },
];

const { values } = parseArgs({
  options: {
    window: { type: "string", default: "40" },
    rounds: { type: "string", default: "1" },
    only: { type: "string" },
    node: { type: "string" },
    "keep-extra-ca": { type: "boolean", default: false },
    // Another build's bin: each daemon variant runs on it too, right after this build's, so that
    // two builds are compared in the same minutes (a checkout of the commit before, built).
    against: { type: "string" },
  },
});
const only = values.only?.split(",");
const nodeVersion = values.node ? useNode(values.node) : process.version;
withoutExtraCa(values["keep-extra-ca"]);
ownCacheHome();
const chosen = VARIANTS.filter((v) => !only || only.includes(v.name));
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

const sim = await startSimulator(healthyEndpoint());
const dir = await mkdtemp(path.join(os.tmpdir(), "apigw-bench-"));
try {
  const config = path.join(dir, "config.json");
  await writeFile(config, JSON.stringify(configFor(sim.info)));
  const checksPerTarget = sim.info.addresses.length * STAGES.length;
  console.log(
    `daemon variants: node ${nodeVersion}; base flags ${daemonFlags().join(" ")}; load ${load()}`,
  );
  const runs = chosen.flatMap((v) =>
    values.against && !v.floor
      ? [
          { v, cli: undefined },
          { v, cli: values.against },
        ]
      : [{ v, cli: undefined }],
  );
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const { v, cli } of runs) {
      const before = load();
      const window: DaemonWindow = {
        nodeFlags: v.floor && !v.shippedFlags ? v.flags : [...daemonFlags(), ...v.flags],
        env: v.env ?? DAEMON_ENV,
        warmupMs: 5_000,
        maxWindowMs: Number(values.window) * 1000,
        maxRuns: Infinity,
        sampleEveryMs: 5_000,
        cli,
      };
      const d = v.floor
        ? await daemonFloorCpu(config, checksPerTarget, window)
        : await daemonCpu(config, window);
      const rss = d.samples.map((s) => s.rssMiB);
      const perCheck = d.cpuMs / (d.runs * checksPerTarget);
      console.log(
        [
          (cli ? `${v.name} (against)` : v.name).padEnd(20),
          `CPU/check ${fmt(perCheck).padStart(8)}`,
          `RSS max ${Math.max(...rss).toFixed(0)} MiB`,
          `median ${rss.sort((a, b) => a - b)[Math.floor(rss.length / 2)]?.toFixed(0)} MiB`,
          `anon ${d.anonMiB.toFixed(0)} file ${d.fileMiB.toFixed(0)} MiB at the end`,
          `${d.runs} runs`,
          `load ${before}`,
        ].join("  "),
      );
    }
  }
} finally {
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
}
