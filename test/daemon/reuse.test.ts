// The daemon's runs ask what changes rarely once per age window, not once per run: the zonal
// names (AZ of each address), the TLS 1.2-only handshake and the zone question. Counted at the
// simulator, per run: what each run sent is the difference of its counters before and after.
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/file.js";
import { resolveSettings } from "../../src/config/load.js";
import type { PreparedTarget } from "../../src/config/prepare.js";
import { startDaemon, type Daemon } from "../../src/daemon/index.js";
import { zonalNames } from "../../src/diagnose/path.js";
import { REUSE_MAX_AGE_MS, ReuseCache } from "../../src/diagnose/reuse.js";
import { diagnose, diagnoseTarget, type RunOptions } from "../../src/diagnose/run.js";
import {
  DEFAULT_ENDPOINT,
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from "../../src/simulator/index.js";
import type { TargetReport } from "../../src/types.js";
import { simulatorConfig, waitFor } from "./helpers.js";

/** What one run sent to the simulator. */
interface Sent {
  zonal: number;
  /** DNS questions that are not zonal: the endpoint's name and the zone question. */
  otherDns: number;
  connections: number;
}

interface Run {
  report: TargetReport;
  sent: Sent;
  reuse: unknown;
}

/** The endpoint's zonal names, answered: AZ a holds the first address, AZ b the second. */
function zonalOverrides(addresses: string[]): Record<string, string[]> {
  const [a, b] = zonalNames(DEFAULT_ENDPOINT);
  return { [a!.name]: [addresses[0]!], [b!.name]: [addresses[1]!] };
}

async function simulator(addresses: string[], more: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({
    addresses,
    // A TLS 1.3-only security policy: every run's TLS 1.2 check finds TLS_12_REFUSED.
    tlsMinVersion: "TLSv1.3",
    dnsOverrides: zonalOverrides(addresses),
    ...more,
  });
}

/** The simulator's config; `::1` accepted as private too when the simulator answers it. */
function config(s: Simulator): string {
  const text = simulatorConfig(s);
  if (!s.addresses.includes("::1")) return text;
  return text.replace("privateCidrs: [127.0.0.0/8]", 'privateCidrs: [127.0.0.0/8, "::1/128"]');
}

function sentSince(sim: Simulator, before: ReturnType<Simulator["stats"]>): Sent {
  const now = sim.stats();
  const zonal = now.zonalDnsQueries - before.zonalDnsQueries;
  return {
    zonal,
    otherDns: now.dnsQueries - before.dnsQueries - zonal,
    connections: now.connections - before.connections,
  };
}

describe("daemon: AZs, the TLS 1.2 check and the zone question reused across runs", () => {
  let sim: Simulator | undefined;
  let daemon: Daemon | undefined;
  afterEach(async () => {
    await daemon?.stop("test");
    daemon = undefined;
    await sim?.close();
    sim = undefined;
  });

  /**
   * The daemon on `sim`, the real diagnosis watched: each run's report, what it sent, and the
   * reuse cache it was given. `around` may change the world before a run (by its index) and
   * replace the run's options.
   */
  async function watchRuns(
    s: Simulator,
    count: number,
    around: (i: number, opts: RunOptions) => RunOptions = (_i, opts) => opts,
  ): Promise<Run[]> {
    const settings = resolveSettings({}, {}, parseConfigText(config(s), "test.yaml"));
    const runs: Run[] = [];
    daemon = await startDaemon({
      settings,
      log: pino({ level: "silent" }),
      diagnoseTarget: async (target, given) => {
        const opts = around(runs.length, given);
        const before = s.stats();
        const report = await diagnoseTarget(target, opts);
        runs.push({ report, sent: sentSince(s, before), reuse: given.reuse });
        return report;
      },
    });
    await waitFor(`${count} runs`, () => (runs.length >= count ? true : undefined));
    await daemon.stop("test");
    daemon = undefined;
    return runs;
  }

  it("asks the zonal names, the TLS 1.2 handshake and the zone question on the first run only", async () => {
    sim = await simulator(["127.0.0.1", "127.0.0.2"]);
    const runs = await watchRuns(sim, 4);
    expect(runs[0]!.reuse).toBeInstanceOf(ReuseCache);
    // First run: six zonal A questions, the endpoint's A and AAAA and the zone question's A and
    // AAAA, a connection per address and one for the TLS 1.2 check.
    expect(runs[0]!.sent).toEqual({ zonal: 6, otherDns: 4, connections: 3 });
    for (const { sent } of runs.slice(1))
      expect(sent).toEqual({ zonal: 0, otherDns: 2, connections: 2 });
    for (const { report } of runs) {
      // The reused answers are the same answers.
      expect(report.addressInfo?.map((i) => [i.address, i.az])).toEqual([
        ["127.0.0.1", "us-east-1a"],
        ["127.0.0.2", "us-east-1b"],
      ]);
      expect(report.findings.filter((f) => f.code === "TLS_12_REFUSED")).toHaveLength(1);
    }
    const reused = runs[1]!.report.findings.find((f) => f.code === "TLS_12_REFUSED");
    expect(reused?.message).toMatch(/the answer of an earlier run \d+ s ago/);
    // Not measured by this run: no TLS time for the histograms.
    expect(reused?.timings).toEqual({ total: 0 });
  });

  it("reuses the DNS_ZONE_FORWARDED answer, and says it is an earlier run's", async () => {
    sim = await simulator(["127.0.0.1", "127.0.0.2"], { faults: { dns: "zone-forward" } });
    const runs = await watchRuns(sim, 3);
    expect(runs.map((r) => r.sent.otherDns)).toEqual([4, 2, 2]);
    const forwarded = runs.map((r) =>
      r.report.findings.find((f) => f.code === "DNS_ZONE_FORWARDED"),
    );
    expect(forwarded.every((f) => f?.status === "warn")).toBe(true);
    expect(forwarded[0]?.message).not.toMatch(/earlier run/);
    expect(forwarded[2]?.message).toMatch(/the answer of an earlier run \d+ s ago/);
    expect(forwarded[2]?.timings.dns).toBeUndefined();
  });

  it("asks again once an answer is REUSE_MAX_AGE_MS old, and not before", async () => {
    sim = await simulator(["127.0.0.1", "127.0.0.2"]);
    let clock = 0;
    const reuse = new ReuseCache({ clock: () => clock });
    // Run 0 at 0, run 1 just before the bound, run 2 at it, run 3 just after.
    const at = [0, REUSE_MAX_AGE_MS - 1, REUSE_MAX_AGE_MS, REUSE_MAX_AGE_MS + 1];
    const runs = await watchRuns(sim, 4, (i, opts) => {
      clock = at[i] ?? clock;
      return { ...opts, reuse };
    });
    expect(runs.slice(0, 4).map((r) => r.sent)).toEqual([
      { zonal: 6, otherDns: 4, connections: 3 },
      { zonal: 0, otherDns: 2, connections: 2 },
      { zonal: 6, otherDns: 4, connections: 3 },
      { zonal: 0, otherDns: 2, connections: 2 },
    ]);
  });

  it("asks again when the address set changes, and when it changes back", async () => {
    sim = await simulator(["127.0.0.1", "::1"]);
    const s = sim;
    // ::1 tried too, as on a host with IPv6; runs 2 (AAAA only) and 3 (both again) change the set.
    const runs = await watchRuns(s, 5, (i, opts) => {
      s.setFaults(i === 2 ? { dns: "aaaa-only" } : {});
      return { ...opts, ipv6: () => ({ ok: true, reason: "test: has IPv6" }) };
    });
    expect(runs.slice(0, 5).map((r) => r.sent)).toEqual([
      // Both families: six zonal A and six AAAA questions.
      { zonal: 12, otherDns: 4, connections: 3 },
      { zonal: 0, otherDns: 2, connections: 2 },
      // ::1 alone: AAAA only, and the TLS 1.2 check asked again through it.
      { zonal: 6, otherDns: 2, connections: 2 },
      { zonal: 12, otherDns: 2, connections: 3 },
      { zonal: 0, otherDns: 2, connections: 2 },
    ]);
    expect(runs[2]!.report.addressInfo?.map((i) => [i.address, i.az])).toEqual([
      ["::1", "us-east-1b"],
    ]);
    for (const i of [0, 1, 3, 4])
      expect(runs[i]!.report.addressInfo?.map((a) => a.az)).toEqual(["us-east-1a", "us-east-1b"]);
  });
});

describe("one-shot diagnose: no reuse", () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it("asks the zonal names, the TLS 1.2 handshake and the zone question on every run", async () => {
    sim = await simulator(["127.0.0.1", "127.0.0.2"]);
    const settings = resolveSettings({}, {}, parseConfigText(simulatorConfig(sim), "test.yaml"));
    const targets: PreparedTarget[] = settings.targets;
    for (let i = 0; i < 3; i++) {
      const before = sim.stats();
      const report = await diagnose(targets);
      expect(sentSince(sim, before)).toEqual({ zonal: 6, otherDns: 4, connections: 3 });
      const tls12 = report.targets[0]?.findings.find((f) => f.code === "TLS_12_REFUSED");
      expect(tls12?.message).not.toMatch(/earlier run/);
    }
  });
});
