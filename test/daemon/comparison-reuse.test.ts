// The daemon and a long STRICT outage: the comparison of access modes is sent once, then reused
// run after run while the findings stay the same (each request would invoke the backend and
// count against usage plans when host mode works). Counted at the simulator.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/file.js";
import { resolveSettings } from "../../src/config/load.js";
import { startDaemon, type Daemon } from "../../src/daemon/index.js";
import { diagnoseTarget } from "../../src/diagnose/run.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import type { TargetReport } from "../../src/types.js";
import { simRun } from "../helpers.js";
import { simulatorConfig, waitFor } from "./helpers.js";

describe("daemon: a comparison's answer reused while the findings stay alike", () => {
  let sim: Simulator;
  let daemon: Daemon | undefined;
  beforeAll(async () => {
    sim = await startSimulator({ accessMode: "STRICT" });
  });
  afterAll(async () => {
    await daemon?.stop("test");
    await sim.close();
  });

  it("sends the 4 comparison requests once over several runs", async () => {
    const settings = resolveSettings({}, {}, parseConfigText(simulatorConfig(sim), "test.yaml"));
    const reports: TargetReport[] = [];
    const before = sim.stats().requests;
    daemon = await startDaemon({
      settings,
      log: pino({ level: "silent" }),
      // The real diagnosis, only watched: what each finished run reported.
      diagnoseTarget: async (target, opts) => {
        const report = await diagnoseTarget(target, { ...simRun(sim), ...opts });
        reports.push(report);
        return report;
      },
    });
    await waitFor("four runs", () => (reports.length >= 4 ? true : undefined));
    await daemon.stop("test");
    daemon = undefined;
    const runs = reports.length;
    const sent = reports.map((r) => r.comparisonRequests);
    expect(sent[0]).toBe(4);
    expect(sent.slice(1).every((n) => n === 0)).toBe(true);
    for (const r of reports) expect(r.primaryCause?.code).toBe("HTTP_MODE_REJECTED");
    // Every run's own 4 requests (2 addresses x 2 stages), and the comparison's 4 once.
    expect(sim.stats().requests - before).toBe(runs * 4 + 4);
  });
});
