// 4. CPU per probe and RSS at 100 targets: apigw-diag against Prometheus blackbox_exporter
// probing the same simulated endpoint. A check is one address x one stage (TCP, TLS, one GET);
// one apigw-diag target is DNS (A and AAAA) plus 2 x 2 checks, one blackbox probe is one check
// (its target URL holds the address, so it does no DNS).
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import {
  DAEMON_ENV,
  daemonFlags,
  ROOT,
  cpuMs,
  fmt,
  measuredNode,
  median,
  owned,
  ratio,
  rssMiB,
  startSimulator,
  timed,
  type Figure,
  type SimInfo,
} from "./lib.js";
import { daemonCpu, type DaemonCpu } from "./daemon-cpu.js";
import { STAGES, healthyEndpoint } from "./stages.js";

const TARGETS = 100;
/** 4 targets x 2 addresses x 2 stages: what the daemon has in flight by default. */
const CHECKS_AT_ONCE = 16;

export function configFor(sim: SimInfo): object {
  return {
    timeout: "5s",
    resolvers: [`${sim.dns.host}:${sim.dns.port}`],
    caFile: sim.caFile,
    privateCidrs: ["127.0.0.0/8"],
    port: sim.port,
    compareOs: false,
    // The daemon measurement wants back-to-back runs: every target as often as 4 at a time allow.
    daemon: { interval: "1s", jitter: 0, maxConcurrentTargets: 4 },
    targets: Array.from({ length: TARGETS }, (_, i) => ({
      name: `t${i}`,
      endpoint: sim.endpoint,
      apiId: sim.apiId,
      stages: STAGES,
    })),
  };
}

function blackboxConfig(sim: SimInfo): string {
  return [
    "modules:",
    "  apigw:",
    "    prober: http",
    "    timeout: 5s",
    "    http:",
    "      method: GET",
    "      valid_status_codes: [200]",
    "      preferred_ip_protocol: ip4",
    "      headers:",
    `        Host: "${sim.endpoint}:${sim.port}"`,
    `        x-apigw-api-id: "${sim.apiId}"`,
    "      tls_config:",
    `        ca_file: "${sim.caFile}"`,
    `        server_name: "${sim.endpoint}"`,
    "",
  ].join("\n");
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function get(url: string): Promise<string> {
  const res = await fetch(url);
  return res.text();
}

/** Every URL once, `concurrency` at a time. */
async function drive(urls: string[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const url = urls[next++] as string;
      const body = await get(url);
      if (!/^probe_success 1$/m.test(body)) throw new Error(`blackbox: ${url} did not succeed`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function blackbox(sim: SimInfo, dir: string, rounds: number) {
  const file = path.join(dir, "blackbox.yml");
  await writeFile(file, blackboxConfig(sim));
  const port = await freePort();
  const child = owned(
    spawn(
      "prometheus-blackbox-exporter",
      [`--config.file=${file}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=error"],
      { stdio: "ignore" },
    ),
  );
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      if (
        await get(`${base}/-/healthy`).then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const urls = Array.from({ length: TARGETS }).flatMap(() =>
      sim.addresses.flatMap((a) =>
        STAGES.map(
          (s) =>
            `${base}/probe?module=apigw&target=${encodeURIComponent(`https://${a}:${sim.port}/${s}/`)}`,
        ),
      ),
    );
    await drive(urls, CHECKS_AT_ONCE); // warm-up
    const pid = child.pid as number;
    const before = cpuMs(pid);
    for (let i = 0; i < rounds; i++) await drive(urls, CHECKS_AT_ONCE);
    const cpu = cpuMs(pid) - before;
    return { probes: urls.length * rounds, cpuMs: cpu, rssMiB: rssMiB(pid) };
  } finally {
    child.kill("SIGTERM");
  }
}

/** Checks per target run: every address of the simulator (set once it started) x every stage. */
let checksPerRun = NaN;
const daemonPerCheck = (d: DaemonCpu) => d.cpuMs / (d.runs * checksPerRun);
const rssMax = (d: DaemonCpu) => Math.max(...d.samples.map((x) => x.rssMiB));
/** A 30 s glance, for a setting whose figures are shown beside another's. */
const GLANCE = { warmupMs: 5_000, maxWindowMs: 30_000, maxRuns: Infinity, sampleEveryMs: 5_000 };

/** CPU per check and highest RSS of a glance, `flags` before its count of runs. */
const glanceFigures = (section: string, name: string, d: DaemonCpu, flags = ""): Figure[] => [
  {
    section,
    label: `daemon, ${name}: CPU per check`,
    value: fmt(daemonPerCheck(d)),
    goal: "",
    met: undefined,
    note: `${flags}${d.runs} target runs in ${(d.windowMs / 1000).toFixed(0)} s`,
  },
  {
    section,
    label: `daemon, ${name}: RSS, highest`,
    value: `${rssMax(d).toFixed(0)} MiB`,
    goal: "",
    met: undefined,
    note: `every 5 s: ${d.samples.map((x) => x.rssMiB.toFixed(0)).join(" ")}`,
  },
];

/**
 * 5. What each of the container's daemon settings buys: the shipped daemon, then the same with
 * one setting left out (a node flag, or the malloc environment), 30 s each, `rounds` times.
 */
export async function flagWorth(rounds: number): Promise<Figure[]> {
  const sim = await startSimulator(healthyEndpoint());
  const dir = await mkdtemp(path.join(os.tmpdir(), "apigw-bench-"));
  try {
    const config = path.join(dir, "config.json");
    await writeFile(config, JSON.stringify(configFor(sim.info)));
    checksPerRun = sim.info.addresses.length * STAGES.length;
    const all = daemonFlags();
    const settings = [
      { name: "shipped", nodeFlags: all, env: DAEMON_ENV },
      ...all.map((f) => ({
        name: `without ${f}`,
        nodeFlags: all.filter((g) => g !== f),
        env: DAEMON_ENV,
      })),
      { name: "V8's defaults", nodeFlags: [], env: {} },
    ];
    const figures: Figure[] = [];
    for (let round = 0; round < rounds; round++)
      for (const s of settings)
        figures.push(
          ...glanceFigures(
            "flags",
            `${s.name} (round ${round + 1})`,
            await daemonCpu(config, { ...GLANCE, nodeFlags: s.nodeFlags, env: s.env }),
          ),
        );
    return figures;
  } finally {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function cpu(
  rounds: number,
  haveBlackbox: boolean,
  daemonWindowS: number,
): Promise<Figure[]> {
  const sim = await startSimulator(healthyEndpoint());
  const dir = await mkdtemp(path.join(os.tmpdir(), "apigw-bench-"));
  try {
    const config = path.join(dir, "config.json");
    await writeFile(config, JSON.stringify(configFor(sim.info)));
    const worker = path.join(ROOT, "bench/.out/diagnose-cpu.js");
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const r = await timed(measuredNode(), [worker, config, String(rounds)], "inherit");
      if (r.code !== 0) throw new Error(`diagnose-cpu exited ${r.code}`);
      runs.push(
        JSON.parse(r.stdout) as { cpuMs: number; rssMiB: number; targets: number; rounds: number },
      );
    }
    const checksPerTarget = sim.info.addresses.length * STAGES.length;
    checksPerRun = checksPerTarget;
    const perTarget = median(runs.map((r) => r.cpuMs / (r.targets * r.rounds)));
    const perCheck = perTarget / checksPerTarget;
    const rss = median(runs.map((r) => r.rssMiB));
    const figures: Figure[] = [
      {
        section: "cpu",
        label: "diagnose() CPU per target (dns + 4 checks)",
        value: fmt(perTarget),
        goal: "",
        met: undefined,
        note: "in-process, 100 targets",
      },
      {
        section: "cpu",
        label: "diagnose() CPU per check",
        value: fmt(perCheck),
        goal: "",
        met: undefined,
      },
      {
        section: "cpu",
        label: "diagnose() RSS at 100 targets",
        value: `${rss.toFixed(0)} MiB`,
        goal: "",
        met: undefined,
      },
    ];
    // V8's defaults, then the flags the container's launcher passes (the Dockerfile's), whose
    // window is long enough to show whether RSS stays flat: 10k target runs, or the time cap.
    const plain = await daemonCpu(config, { ...GLANCE, nodeFlags: [] });
    const shipped = await daemonCpu(config, {
      nodeFlags: daemonFlags(),
      env: DAEMON_ENV,
      warmupMs: 5_000,
      maxWindowMs: daemonWindowS * 1000,
      maxRuns: 10_000,
      sampleEveryMs: 10_000,
    });
    const third = Math.max(1, Math.floor(shipped.samples.length / 3));
    const early = Math.max(...shipped.samples.slice(0, third).map((x) => x.rssMiB));
    const late = Math.max(...shipped.samples.slice(-third).map((x) => x.rssMiB));
    const flags = [
      ...Object.entries(DAEMON_ENV).map(([k, v]) => `${k}=${v}`),
      ...daemonFlags(),
    ].join(" ");
    figures.push(
      ...glanceFigures("cpu", "V8 defaults", plain),
      {
        section: "cpu",
        label: "daemon, shipped flags: CPU per check",
        value: fmt(daemonPerCheck(shipped)),
        goal: "",
        met: undefined,
        note: `${flags}; ${shipped.runs} target runs in ${(shipped.windowMs / 1000).toFixed(0)} s`,
      },
      {
        section: "cpu",
        label: "daemon, shipped flags: RSS, highest",
        value: `${rssMax(shipped).toFixed(0)} MiB`,
        goal: "<= 80 MiB",
        met: rssMax(shipped) <= 80,
      },
      {
        section: "cpu",
        label: "daemon, shipped flags: RSS, last third - first",
        value: `${(late - early).toFixed(1)} MiB`,
        goal: "<= +5 MiB (flat)",
        met: late - early <= 5,
        note: shipped.samples
          .map((x) => `${x.s.toFixed(0)}s/${x.runs}:${x.rssMiB.toFixed(0)}`)
          .join(" "),
      },
    );
    if (!haveBlackbox) return figures;
    const bb = [];
    for (let i = 0; i < 3; i++) bb.push(await blackbox(sim.info, dir, rounds));
    const bbPerProbe = median(bb.map((r) => r.cpuMs / r.probes));
    figures.push(
      {
        section: "cpu",
        label: "blackbox_exporter CPU per probe (1 check)",
        value: fmt(bbPerProbe),
        goal: "",
        met: undefined,
      },
      {
        section: "cpu",
        label: "blackbox_exporter RSS",
        value: `${median(bb.map((r) => r.rssMiB)).toFixed(0)} MiB`,
        goal: "",
        met: undefined,
      },
      {
        section: "cpu",
        label: "ratio diagnose() CPU per check / blackbox",
        value: ratio(perCheck, bbPerProbe),
        goal: "",
        met: undefined,
      },
      {
        section: "cpu",
        label: "ratio daemon (shipped) CPU per check / blackbox",
        value: ratio(daemonPerCheck(shipped), bbPerProbe),
        goal: "<= 1.00x",
        met: daemonPerCheck(shipped) <= bbPerProbe,
      },
    );
    return figures;
  } finally {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
