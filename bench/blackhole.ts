// 2. Time to verdict when every endpoint address drops TCP/443 (no answer to SYN) with a per-phase
// timeout T. On loopback a SYN is always answered, so this runs in a network namespace of its
// own: lo up, the endpoint addresses 10.99.0.1 and 10.99.0.2 on it, iptables dropping tcp/443,
// no other interface and no route out. Without the rights for that, the simulator's tls-stall
// fault stands in (TCP connects, the handshake never completes: the same one-timeout shape).
import { spawnSync } from "node:child_process";
import { healthyStages } from "./stages.js";
import { diagnoseArgs, runbookArgs } from "./healthy.js";
import {
  fmt,
  interleaved,
  measuredNode,
  median,
  startSimulator,
  timed,
  type Figure,
  type Running,
} from "./lib.js";

const ADDRESSES = ["10.99.0.1", "10.99.0.2"];

function sh(argv: string[]): { ok: boolean; err: string } {
  const [cmd, ...args] = argv as [string, ...string[]];
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { ok: r.status === 0, err: (r.stderr ?? r.error?.message ?? "").trim() };
}

/** Creates the namespace; returns undefined (and removes any half-made one) when it cannot. */
function makeNamespace(name: string): string | undefined {
  const steps = [
    ["ip", "netns", "add", name],
    ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
    ...ADDRESSES.map((a) => [
      "ip",
      "netns",
      "exec",
      name,
      "ip",
      "addr",
      "add",
      `${a}/32`,
      "dev",
      "lo",
    ]),
    [
      "ip",
      "netns",
      "exec",
      name,
      "iptables",
      "-A",
      "INPUT",
      "-p",
      "tcp",
      "--dport",
      "443",
      "-j",
      "DROP",
    ],
  ];
  for (const step of steps) {
    const r = sh(step);
    if (!r.ok) {
      deleteNamespace(name);
      return `${step.join(" ")}: ${r.err || "failed"}`;
    }
  }
  return undefined;
}

function deleteNamespace(name: string): void {
  sh(["ip", "netns", "delete", name]);
}

export async function blackHole(reps: number, timeoutSeconds: number): Promise<Figure[]> {
  const ns = `agd-bench-${process.pid}`;
  const problem = makeNamespace(ns);
  const cleanup = () => deleteNamespace(ns);
  process.once("exit", cleanup);
  let sim: Running | undefined;
  try {
    const inNs = problem ? [] : ["ip", "netns", "exec", ns];
    const simArgs = problem
      ? ["--fault", "127.0.0.1=tls-stall", "--fault", "127.0.0.2=tls-stall", ...healthyStages()]
      : [
          ...ADDRESSES.flatMap((a) => ["--address", a]),
          "--https-port",
          "443",
          "--allow-non-loopback",
          ...healthyStages(),
        ];
    sim = await startSimulator(simArgs, inNs);
    const t = `${timeoutSeconds}s`;
    const wrap = (cmd: string, args: string[]) =>
      inNs.length ? { cmd: "ip", args: [...inNs.slice(1), cmd, ...args] } : { cmd, args };
    const expectCode = problem ? "TLS_TIMEOUT" : "TCP_TIMEOUT";
    const tool = wrap(measuredNode(), diagnoseArgs(sim.info, t));
    // The report's own durationMs: time to verdict without Node's start-up.
    const first = await timed(tool.cmd, tool.args);
    if (first.code !== 2 || !first.stdout.includes(expectCode))
      throw new Error(`black hole: diagnose exit ${first.code}, expected 2 with ${expectCode}`);
    const reported = (JSON.parse(first.stdout) as { durationMs: number }).durationMs;
    const [toolMs, runbookMs, bareMs] = await interleaved(
      [
        { ...tool, check: (r) => (r.code === 2 ? undefined : `exit ${r.code}, expected 2`) },
        wrap("bash", runbookArgs(sim.info, timeoutSeconds)),
        // The floor under any Node CLI here: start a process that does nothing, the same way.
        wrap(measuredNode(), ["-e", "0"]),
      ],
      reps,
      0,
    );
    const a = median(toolMs ?? []);
    const b = median(runbookMs ?? []);
    const goal = timeoutSeconds * 1000 + 300;
    const how = problem
      ? `stand-in: tls-stall on loopback (no namespace: ${problem})`
      : `namespace ${ns.replace(/\d+$/, "PID")}, SYN dropped by iptables`;
    return [
      {
        section: "black hole",
        label: `diagnose, T = ${t}, wall`,
        value: fmt(a),
        goal: `<= ${fmt(goal)}`,
        met: a <= goal,
        note: how,
      },
      {
        section: "black hole",
        label: "diagnose, report durationMs",
        value: fmt(reported),
        goal: "",
        met: undefined,
      },
      {
        section: "black hole",
        label: "node -e 0, started the same way",
        value: fmt(median(bareMs ?? [])),
        goal: "",
        met: undefined,
      },
      {
        section: "black hole",
        label: "runbook dig + 4 curl",
        value: fmt(b),
        goal: "",
        met: undefined,
        note: `4 x T = ${fmt(4 * timeoutSeconds * 1000)}`,
      },
    ];
  } finally {
    await sim?.stop();
    cleanup();
    process.removeListener("exit", cleanup);
  }
}
