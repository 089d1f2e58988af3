// 1. A healthy endpoint: `diagnose` against the dig + curl runbook doing the same checks.
import {
  CLI_ARGV,
  FLOOR,
  RUNBOOK,
  fmt,
  interleaved,
  median,
  ratio,
  startSimulator,
  type Figure,
  type SimInfo,
} from "./lib.js";
import { STAGES, healthyEndpoint } from "./stages.js";

export function diagnoseArgs(sim: SimInfo, timeout: string): string[] {
  return [
    ...CLI_ARGV,
    "diagnose",
    "--endpoint",
    sim.endpoint,
    "--api-id",
    sim.apiId,
    ...STAGES.flatMap((s) => ["--stage", s]),
    "--resolver",
    `${sim.dns.host}:${sim.dns.port}`,
    "--port",
    String(sim.port),
    "--ca-file",
    sim.caFile,
    "--private-cidr",
    "127.0.0.0/8",
    "--no-compare-os",
    "--format",
    "json",
    "--log-level",
    "silent",
    "--timeout",
    timeout,
  ];
}

export function runbookArgs(sim: SimInfo, timeoutSeconds: number): string[] {
  const { endpoint, dns, port, apiId, caFile } = sim;
  return [RUNBOOK, endpoint, dns.host, String(dns.port), String(port), apiId, caFile]
    .concat(String(timeoutSeconds))
    .concat(STAGES);
}

export async function healthy(reps: number): Promise<Figure[]> {
  const sim = await startSimulator(healthyEndpoint());
  const fourOfFour = (who: string) => (t: { stdout: string }) =>
    t.stdout.trim() === "4/4" ? undefined : `${who} saw ${t.stdout.trim()}`;
  try {
    const [tool, runbook, floor] = await interleaved(
      [
        {
          cmd: process.execPath,
          args: diagnoseArgs(sim.info, "2s"),
          check: (t) => (t.code === 0 ? undefined : `exit ${t.code}, expected 0 (healthy)`),
        },
        { cmd: "bash", args: runbookArgs(sim.info, 2), check: fourOfFour("runbook") },
        // The same arguments as the runbook's: node instead of bash, the floor instead of it.
        {
          cmd: process.execPath,
          args: [FLOOR, ...runbookArgs(sim.info, 2).slice(1)],
          check: fourOfFour("floor"),
        },
      ],
      reps,
    );
    const a = median(tool ?? []);
    const b = median(runbook ?? []);
    const c = median(floor ?? []);
    return [
      {
        section: "healthy",
        label: "diagnose (2 addr x 2 stages)",
        value: fmt(a),
        goal: "",
        met: undefined,
      },
      {
        section: "healthy",
        label: "runbook dig + 4 curl",
        value: fmt(b),
        goal: "",
        met: undefined,
      },
      {
        section: "healthy",
        label: "ratio diagnose / runbook",
        value: ratio(a, b),
        goal: "<= 1.00x",
        met: a <= b,
      },
      {
        section: "healthy",
        label: "floor: the runbook's checks, node built-ins",
        value: fmt(c),
        goal: "",
        met: undefined,
      },
      {
        section: "healthy",
        label: "ratio floor / runbook",
        value: ratio(c, b),
        goal: "",
        met: undefined,
        note: "what any node program needs at least",
      },
    ];
  } finally {
    await sim.stop();
  }
}
