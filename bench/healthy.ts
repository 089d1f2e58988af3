// 1. A healthy endpoint: `diagnose` against the dig + curl runbook doing the same checks.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  CLI_ARGV,
  RUNBOOK,
  SYSTEM_CA_BUNDLE,
  fmt,
  interleaved,
  measuredNode,
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

/** bench/runbook.sh's arguments; its curl trusts `caFile` alone, the way `--cacert` does. */
export function runbookArgs(sim: SimInfo, timeoutSeconds: number, caFile = sim.caFile): string[] {
  const { endpoint, dns, port, apiId } = sim;
  return [RUNBOOK, endpoint, dns.host, String(dns.port), String(port), apiId, caFile]
    .concat(String(timeoutSeconds))
    .concat(STAGES);
}

/**
 * What the runbook's curl trusts when it checks a real endpoint: the system's bundle, which every
 * curl reads as it starts, here with the simulator's CA added, as diagnose adds `--ca-file` to
 * Node's roots (docs/design.md: caFile). Undefined where the host has no bundle.
 */
async function systemTrustWith(caFile: string, dir: string): Promise<string | undefined> {
  let bundle: string;
  try {
    bundle = await readFile(SYSTEM_CA_BUNDLE, "utf8");
  } catch {
    return undefined;
  }
  const file = path.join(dir, "system-plus-test-ca.pem");
  await writeFile(file, `${bundle.trimEnd()}\n${await readFile(caFile, "utf8")}`);
  return file;
}

export async function healthy(reps: number): Promise<Figure[]> {
  const sim = await startSimulator(healthyEndpoint());
  const dir = await mkdtemp(path.join(os.tmpdir(), "apigw-bench-"));
  const fourOfFour = (who: string) => (t: { stdout: string }) =>
    t.stdout.trim() === "4/4" ? undefined : `${who} saw ${t.stdout.trim()}`;
  try {
    const trust = await systemTrustWith(sim.info.caFile, dir);
    const [tool, runbook, labRunbook] = await interleaved(
      [
        {
          cmd: measuredNode(),
          args: diagnoseArgs(sim.info, "2s"),
          check: (t) => (t.code === 0 ? undefined : `exit ${t.code}, expected 0 (healthy)`),
        },
        {
          cmd: "bash",
          args: runbookArgs(sim.info, 2, trust ?? sim.info.caFile),
          check: fourOfFour("runbook"),
        },
        { cmd: "bash", args: runbookArgs(sim.info, 2), check: fourOfFour("runbook, test CA") },
      ],
      reps,
    );
    const a = median(tool ?? []);
    const b = median(runbook ?? []);
    const l = median(labRunbook ?? []);
    const row = (label: string, value: string, note?: string): Figure => ({
      section: "healthy",
      label,
      value,
      goal: "",
      met: undefined,
      ...(note ? { note } : {}),
    });
    return [
      row("diagnose (2 addr x 2 stages)", fmt(a)),
      row(
        "runbook dig + 4 curl",
        fmt(b),
        trust
          ? "curl trusts the system bundle plus the test CA"
          : `no ${SYSTEM_CA_BUNDLE}: curl trusts the test CA alone`,
      ),
      {
        section: "healthy",
        label: "ratio diagnose / runbook",
        value: ratio(a, b),
        goal: "<= 1.00x",
        met: a <= b,
      },
      row("runbook, curl trusting the test CA alone", fmt(l), "a lab's shortcut"),
      row("ratio diagnose / that runbook", ratio(a, l)),
    ];
  } finally {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
