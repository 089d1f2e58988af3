// `demo`: the simulator on loopback, diagnosed like a real endpoint: one stage works, one is
// not deployed, so a new user sees a verdict, a cause and a fix without any AWS account.
import type { Logger } from "pino";
import { resolveSettings } from "../config/load.js";
import type { Ipv6Connectivity } from "../probes/ipv6-connectivity.js";
import { startSimulator, type Simulator } from "../simulator/index.js";
import { simulatorOverrides } from "../simulator/target.js";
import type { Report } from "../types.js";
import { UsageError } from "../types.js";
import { SCENARIOS, SCENARIO_NAMES } from "./demo-scenarios.js";
import { runDiagnose, type Format } from "./diagnose.js";

export async function runDemo(opts: {
  format: Format;
  color: boolean;
  log: Logger;
  timeout: string;
  signal?: AbortSignal;
  scenario?: string;
}): Promise<Report> {
  if (opts.scenario) return runScenario(opts.scenario, opts);
  const sim = await startSimulator({ stages: { prod: "ok" } });
  try {
    if (opts.format === "text") {
      process.stdout.write(
        `demo: a simulated private API (${sim.apiId}) behind ${sim.endpoint},\n` +
          `      endpoint addresses ${sim.addresses.join(", ")} on port ${sim.port}, DNS at ${sim.dns.host}:${sim.dns.port};\n` +
          `      stage "prod" is deployed, stage "v2" is not.\n\n`,
      );
    }
    const settings = resolveSettings({ ...simulatorOverrides(sim), timeout: opts.timeout }, {}, {});
    return await runDiagnose(settings, { ...opts, ipv6: loopbackIpv6(sim) });
  } finally {
    await sim.close();
  }
}

/**
 * Where loopback holds 127.0.0.1 alone (macOS), the second AZ is ::1: it is tried whatever this
 * host's own IPv6 connectivity, as the dualstack scenario does.
 */
function loopbackIpv6(sim: Simulator): (() => Ipv6Connectivity) | undefined {
  if (!sim.addresses.includes("::1")) return undefined;
  return () => ({ ok: true, reason: "demo: ::1 stands in for the second Availability Zone" });
}

async function runScenario(name: string, opts: Parameters<typeof runDemo>[0]): Promise<Report> {
  const scenario = Object.hasOwn(SCENARIOS, name) ? SCENARIOS[name] : undefined;
  if (!scenario)
    throw new UsageError(`demo --scenario: one of ${SCENARIO_NAMES.join(", ")}, not ${name}`);
  const sim = await startSimulator(scenario.simulator);
  try {
    if (opts.format === "text") process.stdout.write(`demo (${name}): ${scenario.story}\n\n`);
    const over = { ...simulatorOverrides(sim), timeout: opts.timeout, ...scenario.target(sim) };
    const settings = resolveSettings(over, {}, {});
    return await runDiagnose(settings, { ...opts, ipv6: scenario.ipv6 ?? loopbackIpv6(sim) });
  } finally {
    await sim.close();
  }
}
