// The checks of DESIGN's newer codes against the simulator, over real sockets, real TLS and real
// DNS packets on loopback: a 421 STRICT refusal, the whole execute-api zone forwarded, a TLS
// 1.3-only security policy, and the IPv6 rule (AAAA answers of the endpoint's own name).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ComparisonCache } from "../../src/diagnose/compare.js";
import {
  diagnose as runAll,
  diagnoseTarget as runTarget,
  type RunOptions,
} from "../../src/diagnose/run.js";
import type { PreparedTarget } from "../../src/config/prepare.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import type { DnsFinding, Finding, HttpFinding, TargetReport } from "../../src/types.js";
import { hasSecondLoopback, second as secondOf, simRun, simTarget } from "../helpers.js";

/** A simulator's second AZ is ::1 where loopback holds 127.0.0.1 alone (macOS): tried here too. */
const onLoopback = simRun({ addresses: hasSecondLoopback ? [] : ["::1"] });
const diagnoseTarget = (t: PreparedTarget, o: RunOptions = {}) =>
  runTarget(t, { ...onLoopback, ...o });
const diagnose = (t: PreparedTarget[], o: RunOptions = {}) => runAll(t, { ...onLoopback, ...o });

const http = (r: TargetReport): HttpFinding[] =>
  r.findings.filter((f): f is HttpFinding => f.layer === "http");
const codes = (r: TargetReport): string[] => r.findings.map((f) => f.code);
const why = (r: TargetReport): string =>
  r.findings.map((f) => `${f.layer} ${f.code} ${f.address ?? "-"} ${f.stage ?? "-"}`).join("\n");
const one = (r: TargetReport, code: string): Finding | undefined =>
  r.findings.find((f) => f.code === code);

describe("a STRICT refusal answered 421 Misdirected Request", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ accessMode: "STRICT", strictRefusal: 421 });
  });
  afterAll(() => sim.close());

  it("is HTTP_MISDIRECTED without the comparison", async () => {
    const r = await diagnoseTarget(simTarget(sim, { compareModes: false }));
    expect(new Set(http(r).map((f) => f.code)), why(r)).toEqual(new Set(["HTTP_MISDIRECTED"]));
    expect(http(r)[0]?.evidence.status).toBe(421);
    expect(r.comparisonRequests).toBe(0);
  });

  it("starts the comparison, which finds header mode refused: HTTP_MODE_REJECTED", async () => {
    const before = sim.stats().requests;
    const r = await diagnoseTarget(simTarget(sim));
    expect(new Set(http(r).map((f) => f.code)), why(r)).toEqual(new Set(["HTTP_MODE_REJECTED"]));
    const e = http(r)[0]?.evidence.comparison;
    expect(e?.header?.status).toBe(421);
    expect(e?.host?.status).toBe(200);
    expect(r.comparisonRequests).toBe(4);
    expect(sim.stats().requests - before).toBe(8);
  });
});

describe("the daemon's reuse of a comparison", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ accessMode: "STRICT" });
  });
  afterAll(() => sim.close());

  it("sends no comparison while the findings stay the same, and asks again once they changed", async () => {
    const cache = new ComparisonCache();
    const target = simTarget(sim);
    const sent = async () => {
      const before = sim.stats().requests;
      const r = await diagnoseTarget(target, { comparisonCache: cache });
      return { r, atServer: sim.stats().requests - before };
    };
    const first = await sent();
    expect(first.r.comparisonRequests).toBe(4);
    expect(first.atServer).toBe(8);
    const second = await sent();
    expect(second.r.comparisonRequests).toBe(0);
    expect(second.atServer, why(second.r)).toBe(4);
    expect(new Set(http(second.r).map((f) => f.code))).toEqual(new Set(["HTTP_MODE_REJECTED"]));
    expect(http(second.r)[0]?.message).toMatch(/reused/);
    // One address changes (refused), then recovers: only that address is compared again.
    sim.setFaults({ address: { [secondOf(sim)]: "refuse" } });
    const third = await sent();
    expect(third.r.comparisonRequests).toBe(0);
    sim.setFaults({});
    const fourth = await sent();
    expect(fourth.r.comparisonRequests).toBe(2);
    expect(fourth.r.comparisons?.filter((a) => a.address === secondOf(sim))).toHaveLength(2);
  });

  it("returns new findings and leaves the ones it was given untouched", async () => {
    const r = await diagnoseTarget(simTarget(sim, { compareModes: false }));
    const before = JSON.stringify(r.findings);
    const { compareModes } = await import("../../src/diagnose/compare.js");
    const target = simTarget(sim);
    const out = await compareModes(target, r.findings, r.addresses, async () => ({
      connection: [],
      notTried: [],
      reason: "test: no answer",
    }));
    expect(JSON.stringify(r.findings)).toBe(before);
    expect(out.findings).not.toBe(r.findings);
    expect(out.findings.filter((f, i) => f !== r.findings[i]).length).toBe(4);
    expect(out.requests).toBe(4);
  });
});

describe("the whole execute-api zone forwarded to the VPC", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  it("warns DNS_ZONE_FORWARDED when a made-up API's name resolves to the endpoint", async () => {
    sim.setFaults({ dns: "zone-forward" });
    const r = await diagnoseTarget(simTarget(sim));
    const f = one(r, "DNS_ZONE_FORWARDED") as DnsFinding | undefined;
    expect(f, why(r)).toBeDefined();
    expect(f?.status).toBe("warn");
    expect(f?.evidence.name).toMatch(/^[a-z0-9]{10}\.execute-api\.us-east-1\.amazonaws\.com$/);
    expect(f?.evidence.name).not.toContain(sim.apiId);
    expect(f?.evidence.endpointAddresses?.sort()).toEqual([...sim.addresses].sort());
    expect(r.verdict).toBe("healthy");
  });

  it("says nothing when the made-up name does not exist (NXDOMAIN)", async () => {
    sim.setFaults({});
    const r = await diagnoseTarget(simTarget(sim));
    expect(codes(r)).not.toContain("DNS_ZONE_FORWARDED");
    expect(r.verdict).toBe("healthy");
  });

  it("asks once per run and region, however many targets share them", async () => {
    sim.setFaults({ dns: "zone-forward" });
    const asked = () => sim.stats().dnsQueries - sim.stats().zonalDnsQueries;
    const before = asked();
    const a = simTarget(sim);
    const report = await diagnose([a, { ...a, name: "b" }]);
    // Each target: A and AAAA of its own name (2); the made-up name once: A and AAAA (2). The
    // path layer's zonal names (AZ) are counted apart.
    expect(asked() - before).toBe(6);
    for (const t of report.targets) expect(codes(t)).toContain("DNS_ZONE_FORWARDED");
    sim.setFaults({});
  });
});

describe("a TLS 1.3-only security policy", () => {
  let strict: Simulator;
  let lenient: Simulator;
  beforeAll(async () => {
    [strict, lenient] = await Promise.all([
      startSimulator({ addresses: ["127.0.0.1"], tlsMinVersion: "TLSv1.3" }),
      startSimulator({ addresses: ["127.0.0.1"] }),
    ]);
  });
  afterAll(() => Promise.all([strict.close(), lenient.close()]));

  it("warns TLS_12_REFUSED after one extra handshake, saying which protocols", async () => {
    const before = strict.stats().connections;
    const r = await diagnoseTarget(simTarget(strict));
    const f = r.findings.find((x) => x.code === "TLS_12_REFUSED");
    expect(f, why(r)).toBeDefined();
    expect(f?.status).toBe("warn");
    expect(f?.layer === "tls" && f.evidence.protocols).toEqual({
      "TLSv1.3": "accepted",
      "TLSv1.2": "refused",
    });
    expect(r.verdict).toBe("healthy");
    // One connection for the stages, one for the TLS 1.2 handshake.
    expect(strict.stats().connections - before).toBe(2);
  });

  it("says nothing when TLS 1.2 is accepted too", async () => {
    const r = await diagnoseTarget(simTarget(lenient));
    expect(codes(r)).not.toContain("TLS_12_REFUSED");
    expect(r.verdict).toBe("healthy");
  });
});

describe("the IPv6 rule: AAAA answers of the endpoint's own name", () => {
  let sim: Simulator;
  const endpointV6 = "2001:db8:1f00::10";
  beforeAll(async () => {
    sim = await startSimulator({ addresses: ["127.0.0.1"] });
  });
  afterAll(() => sim.close());

  const start = (overrides: Record<string, string[]>) =>
    startSimulator({ addresses: ["127.0.0.1"], dnsOverrides: overrides });

  it("accepts an AAAA-only endpoint's global address (probed, here not by --family 4)", async () => {
    const only = await start({ [sim.endpoint]: [endpointV6] });
    try {
      const r = await diagnoseTarget(
        simTarget(only, { family: "4", privateCidrs: ["127.0.0.0/8"] }),
      );
      const dns = r.findings.find((f) => f.layer === "dns") as DnsFinding;
      expect(dns.code, why(r)).toBe("DNS_OK");
      expect(dns.evidence.rules).toEqual({ [endpointV6]: "dualstack" });
      expect(r.skipped.map((s) => `${s.address} ${s.reason}`)).toContain(
        `${endpointV6} --family 4`,
      );
    } finally {
      await only.close();
    }
  });

  it("refuses a global address leaking in through split DNS in host mode, A answers private", async () => {
    const leak = await start({
      [sim.endpoint]: ["127.0.0.1", endpointV6],
      [sim.apiHost]: ["127.0.0.1", "2001:db8:ffff::99"],
    });
    try {
      const asked = () => leak.stats().dnsQueries - leak.stats().zonalDnsQueries;
      const before = asked();
      const r = await diagnoseTarget(
        simTarget(leak, { mode: "host", family: "4", privateCidrs: ["127.0.0.0/8"] }),
      );
      const dns = r.findings.find((f) => f.layer === "dns") as DnsFinding;
      expect(dns.code, why(r)).toBe("DNS_PUBLIC_ADDRESS");
      expect(dns.evidence.public).toEqual(["2001:db8:ffff::99"]);
      // The API's name (A, AAAA), the endpoint's own AAAA, and the made-up name (A, AAAA); the
      // path layer's zonal names (AZ) are counted apart.
      expect(asked() - before).toBe(5);
    } finally {
      await leak.close();
    }
  });

  it("accepts in host mode the global address the endpoint's own name answers too", async () => {
    const same = await start({
      [sim.endpoint]: ["127.0.0.1", endpointV6],
      [sim.apiHost]: ["127.0.0.1", endpointV6],
    });
    try {
      const r = await diagnoseTarget(
        simTarget(same, { mode: "host", family: "4", privateCidrs: ["127.0.0.0/8"] }),
      );
      const dns = r.findings.find((f) => f.layer === "dns") as DnsFinding;
      expect(dns.code, why(r)).toBe("DNS_OK");
      expect(dns.evidence.rules?.[endpointV6]).toBe("dualstack");
      expect(r.verdict).toBe("healthy");
    } finally {
      await same.close();
    }
  });

  it("judges a NAT64 answer by the IPv4 address it embeds, and says so", async () => {
    const nat64 = await start({ [sim.endpoint]: ["64:ff9b::a14:10a", "64:ff9b::808:808"] });
    try {
      const r = await diagnoseTarget(simTarget(nat64, { family: "4", privateCidrs: [] }));
      const dns = r.findings.find((f) => f.layer === "dns") as DnsFinding;
      expect(dns.code, why(r)).toBe("DNS_PUBLIC_ADDRESS");
      expect(dns.evidence.rules).toEqual({
        "64:ff9b::a14:10a": "nat64",
        "64:ff9b::808:808": "public",
      });
      expect(dns.message).toMatch(/NAT64.*64:ff9b::808:808 = 8\.8\.8\.8/);
    } finally {
      await nat64.close();
    }
  });
});
