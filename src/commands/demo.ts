// `demo`: the simulator on loopback, diagnosed like a real endpoint: one stage works, one is
// not deployed, so a new user sees a verdict, a cause and a fix without any AWS account.
import type { Logger } from "pino";
import { resolveSettings } from "../config/load.js";
import { startSimulator } from "../simulator/index.js";
import { simulatorOverrides } from "../simulator/target.js";
import type { Report } from "../types.js";
import { runDiagnose, type Format } from "./diagnose.js";

export async function runDemo(opts: {
  format: Format;
  color: boolean;
  log: Logger;
  timeout: string;
  signal?: AbortSignal;
}): Promise<Report> {
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
    return await runDiagnose(settings, opts);
  } finally {
    await sim.close();
  }
}
