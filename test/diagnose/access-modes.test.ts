// Today's private APIs on loopback: STRICT endpoint access mode, dualstack endpoints, private
// custom domain names, each against the simulator over real sockets and real TLS.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diagnoseTarget as runTarget, type RunOptions } from "../../src/diagnose/run.js";
import type { PreparedTarget } from "../../src/config/prepare.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import type { DnsFinding, HttpFinding, TargetReport } from "../../src/types.js";
import { hasSecondLoopback, second, simRun, simTarget } from "../helpers.js";

/** Every simulator here has ::1 as its second AZ where loopback holds 127.0.0.1 alone (macOS). */
const diagnoseTarget = (t: PreparedTarget, o: RunOptions = {}) =>
  runTarget(t, { ...simRun({ addresses: hasSecondLoopback ? [] : ["::1"] }), ...o });

const withV6: RunOptions = { ipv6: () => ({ ok: true, reason: "test: has IPv6" }) };
const withoutV6: RunOptions = { ipv6: () => ({ ok: false, reason: "test: no IPv6 address" }) };

const http = (r: TargetReport): HttpFinding[] =>
  r.findings.filter((f): f is HttpFinding => f.layer === "http");
const dnsOf = (r: TargetReport): DnsFinding[] =>
  r.findings.filter((f): f is DnsFinding => f.layer === "dns");
const why = (r: TargetReport): string =>
  r.findings.map((f) => `${f.layer} ${f.code} ${f.address ?? "-"} ${f.stage ?? "-"}`).join("\n");

describe("STRICT endpoint access mode", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ accessMode: "STRICT" });
  });
  afterAll(() => sim.close());

  it("reports header mode refused while host and alias mode work as HTTP_MODE_REJECTED", async () => {
    const r = await diagnoseTarget(simTarget(sim));
    expect(r.verdict, why(r)).toBe("failing");
    expect(new Set(http(r).map((f) => f.code)), why(r)).toEqual(new Set(["HTTP_MODE_REJECTED"]));
    expect(http(r)).toHaveLength(4);
    expect(r.primaryCause?.code).toBe("HTTP_MODE_REJECTED");
    expect(r.primaryCause?.hint).toMatch(/STRICT/);
    expect(r.primaryCause?.hint).toMatch(/BASIC/);
    const f = http(r).find((x) => x.address === "127.0.0.1" && x.stage === "prod");
    const e = f?.evidence.comparison;
    expect(e?.header?.status).toBe(403);
    expect(e?.header?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(e?.host?.status).toBe(200);
    expect(e?.host?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(e?.alias?.status).toBe(200);
    // The access mode is the API's: one host and one alias request per address, first stage.
    expect(r.comparisons).toHaveLength(4);
    expect(r.comparisons?.every((a) => a.mode === "host" || a.mode === "alias")).toBe(true);
    expect(r.comparisons?.every((a) => a.stage === "prod")).toBe(true);
    expect(r.comparisonRequests).toBe(4);
    // The second stage is judged by the first stage's comparison, and says so.
    const v2 = http(r).find((x) => x.address === second(sim) && x.stage === "v2");
    expect(v2?.code).toBe("HTTP_MODE_REJECTED");
    expect(v2?.message).toMatch(/for stage prod/);
  });

  it("sends at most 4 comparison requests for 2 addresses x 2 stages, counted at the server", async () => {
    const before = sim.stats();
    const r = await diagnoseTarget(simTarget(sim));
    const after = sim.stats();
    expect(r.stages).toEqual(["prod", "v2"]);
    expect(r.addresses).toHaveLength(2);
    // 4 of the run's own (2 addresses x 2 stages) and 4 to compare (host + alias, 2 addresses).
    expect(after.requests - before.requests, why(r)).toBe(8);
    expect(r.comparisonRequests).toBe(4);
  });

  it("is healthy in host mode (SNI and Host are the private DNS name)", async () => {
    const r = await diagnoseTarget(simTarget(sim, { mode: "host" }));
    expect(r.verdict, why(r)).toBe("healthy");
    expect(r.comparisons).toBeUndefined();
  });

  it("stays HTTP_FORBIDDEN with --no-compare-modes, and sends no comparison", async () => {
    const before = sim.stats().requests;
    const r = await diagnoseTarget(simTarget(sim, { compareModes: false }));
    expect(new Set(http(r).map((f) => f.code))).toEqual(new Set(["HTTP_FORBIDDEN"]));
    expect(r.primaryCause?.hint).toMatch(/compare with --mode host/);
    expect(sim.stats().requests - before).toBe(4);
    expect(r.comparisons).toBeUndefined();
  });
});

describe("a wrong API id without STRICT", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ addresses: ["127.0.0.1"] });
  });
  afterAll(() => sim.close());

  it("stays HTTP_FORBIDDEN when host and alias mode are Forbidden too, and says so", async () => {
    const r = await diagnoseTarget(simTarget(sim, { apiId: "zzzzzzzzzz" }));
    expect(new Set(http(r).map((f) => f.code)), why(r)).toEqual(new Set(["HTTP_FORBIDDEN"]));
    expect(r.primaryCause?.code).toBe("HTTP_FORBIDDEN");
    expect(r.comparisons?.map((a) => `${a.mode}:${a.status}`).sort()).toEqual([
      "alias:403",
      "host:403",
    ]);
    expect(r.comparisonRequests).toBe(2);
    expect(http(r)[0]?.message).toMatch(/not the access mode/);
    expect(r.primaryCause?.hint).toMatch(/host and alias mode answer Forbidden too/);
    expect(r.primaryCause?.hint).not.toMatch(/compare with --mode host/);
  });
});

describe("dualstack endpoint", () => {
  let sim: Simulator;
  beforeAll(async () => {
    // IPv4 and IPv6 addresses: two IPv4 ones where loopback holds them, else 127.0.0.1 alone.
    const v4 = hasSecondLoopback ? ["127.0.0.1", "127.0.0.2"] : ["127.0.0.1"];
    sim = await startSimulator({ addresses: [...v4, "::1"] });
  });
  afterAll(() => sim.close());

  it("probes the IPv6 address too when this host has IPv6 connectivity", async () => {
    sim.setFaults({});
    const r = await diagnoseTarget(simTarget(sim), withV6);
    expect(r.verdict, why(r)).toBe("healthy");
    const okV6 = http(r).filter((f) => f.address === "::1" && f.code === "HTTP_OK");
    expect(okV6.map((f) => f.stage).sort()).toEqual(["prod", "v2"]);
    expect(r.skipped).toEqual([]);
  });

  it("lists the IPv6 address as not tried without IPv6 connectivity, verdict unaffected", async () => {
    sim.setFaults({ address: { "::1": "refuse" } });
    const r = await diagnoseTarget(simTarget(sim), withoutV6);
    expect(r.verdict, why(r)).toBe("healthy");
    expect(r.findings.some((f) => f.address === "::1")).toBe(false);
    expect(r.skipped).toEqual([
      {
        address: "::1",
        layers: ["tcp", "tls", "http"],
        reason: expect.stringMatching(/no IPv6 connectivity.*test: no IPv6 address/),
      },
    ]);
  });

  it("with --family 4 does not try IPv6 whatever the host has", async () => {
    sim.setFaults({});
    const r = await diagnoseTarget(simTarget(sim, { family: "4" }), withV6);
    expect(r.verdict).toBe("healthy");
    expect(r.skipped.map((s) => `${s.address} ${s.reason}`)).toEqual(["::1 --family 4"]);
  });

  it("points at the IPv6 path MTU when only IPv6 stalls after connecting", async () => {
    sim.setFaults({ address: { "::1": "tls-stall" } });
    const r = await diagnoseTarget(simTarget(sim), withV6);
    expect(r.verdict, why(r)).toBe("degraded");
    expect(r.primaryCause?.code).toBe("TLS_TIMEOUT");
    expect(r.primaryCause?.hint).toMatch(/Only the IPv6 addresses ::1 fail.*ICMPv6 Packet Too Big/);
  });

  it("says when --family 6 leaves no address to probe", async () => {
    const v4only = await startSimulator({ addresses: ["127.0.0.1"] });
    try {
      const r = await diagnoseTarget(simTarget(v4only, { family: "6" }), withV6);
      expect(r.verdict).toBe("failing");
      expect(r.skipped.map((s) => s.reason)).toContain(
        "no address of the family probed (--family 6)",
      );
    } finally {
      await v4only.close();
    }
  });

  it("is degraded when only IPv6 fails, and the hint names the missing IPv6 rule", async () => {
    sim.setFaults({ address: { "::1": "refuse" } });
    const r = await diagnoseTarget(simTarget(sim), withV6);
    expect(r.verdict, why(r)).toBe("degraded");
    expect(r.primaryCause?.code).toBe("TCP_REFUSED");
    expect(r.primaryCause?.addresses).toEqual(["::1"]);
    expect(r.primaryCause?.hint).toMatch(/Only the IPv6 addresses ::1 fail/);
    expect(r.primaryCause?.hint).toMatch(/security group/);
  });
});

describe("the dualstack rule in DNS", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({
      addresses: ["127.0.0.1"],
      // A global unicast AAAA (documentation prefix) beside private A answers. Never contacted:
      // the tests below run with --family 4.
      dnsOverrides: {
        "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com": [
          "127.0.0.1",
          "2001:db8:1f00::10",
        ],
      },
    });
  });
  afterAll(() => sim.close());

  it("accepts a global IPv6 answer of a name whose A answers are private, and shows the rule", async () => {
    const r = await diagnoseTarget(simTarget(sim, { family: "4" }));
    const dns = r.findings.find((f) => f.layer === "dns");
    expect(dns?.code, why(r)).toBe("DNS_OK");
    expect(dns?.evidence.rules).toEqual({
      "127.0.0.1": "privateCidrs",
      "2001:db8:1f00::10": "dualstack",
    });
    expect(dns?.message).toMatch(/AAAA answers of the endpoint's own vpce name/);
    expect(r.skipped.map((s) => s.address)).toEqual(["2001:db8:1f00::10"]);
    expect(r.verdict).toBe("healthy");
  });
});

describe("private custom domain names", () => {
  let sim: Simulator;
  const basePaths = { "": "prod", prod: "prod", v2: "v2" };
  beforeAll(async () => {
    sim = await startSimulator({
      domains: [
        { name: "ledger.intra.example.com", associated: true, basePaths },
        { name: "orphan.intra.example.com", associated: false, basePaths },
        { name: "moved.intra.example.com", associated: true, basePaths },
      ],
      // The private hosted zone's alias for this one points at another endpoint's addresses;
      // the last one leads to the endpoint, which has no certificate for it.
      dnsOverrides: {
        "moved.intra.example.com": ["127.0.0.3"],
        "nocert.intra.example.com": ["127.0.0.1"],
      },
    });
  });
  afterAll(() => sim.close());

  const domainTarget = (domain: string, over: Parameters<typeof simTarget>[1] = {}) =>
    simTarget(sim, {
      endpoint: undefined,
      apiId: undefined,
      stages: undefined,
      domain,
      basePaths: ["prod", "v2"],
      ...over,
    });

  it("is healthy alone: GET /<base path>/ with SNI and Host = the domain", async () => {
    const r = await diagnoseTarget(domainTarget("ledger.intra.example.com"));
    expect(r.verdict, why(r)).toBe("healthy");
    expect(r.mode).toBe("domain");
    expect(r.stages).toEqual(["prod", "v2"]);
    expect(http(r).map((f) => f.evidence.request)).toContain("GET /prod/");
    const tls = r.findings.find((f) => f.layer === "tls");
    expect(tls?.evidence.servername).toBe("ledger.intra.example.com");
  });

  it("is healthy with --endpoint: the domain resolves to the endpoint's addresses", async () => {
    const r = await diagnoseTarget(
      domainTarget("ledger.intra.example.com", { endpoint: sim.endpoint }),
    );
    expect(r.verdict, why(r)).toBe("healthy");
    expect(r.findings.some((f) => f.code === "DNS_DOMAIN_ELSEWHERE")).toBe(false);
  });

  it("reports HTTP_DOMAIN_FORBIDDEN without a domain name access association", async () => {
    const r = await diagnoseTarget(
      domainTarget("orphan.intra.example.com", {
        endpoint: sim.endpoint,
        apiId: sim.apiId,
        stages: ["prod"],
      }),
    );
    expect(r.verdict, why(r)).toBe("failing");
    expect(new Set(http(r).map((f) => f.code)), why(r)).toEqual(new Set(["HTTP_DOMAIN_FORBIDDEN"]));
    expect(r.primaryCause?.hint).toMatch(/domain name access association/);
    expect(r.comparisons?.some((a) => a.mode === "header" && a.status === 200)).toBe(true);
  });

  it("stays HTTP_FORBIDDEN for an unassociated domain when no API is named to compare with", async () => {
    const r = await diagnoseTarget(domainTarget("orphan.intra.example.com"));
    expect(new Set(http(r).map((f) => f.code))).toEqual(new Set(["HTTP_FORBIDDEN"]));
  });

  it("names the private hosted zone and its forwarding when the domain does not resolve", async () => {
    const r = await diagnoseTarget(domainTarget("unknown.intra.example.com"));
    expect(r.primaryCause?.code, why(r)).toBe("DNS_NXDOMAIN");
    expect(r.primaryCause?.hint).toMatch(/private hosted zone/);
  });

  it("wants a certificate that covers the domain: TLS_HOSTNAME_MISMATCH otherwise", async () => {
    const r = await diagnoseTarget(domainTarget("nocert.intra.example.com"));
    const tls = r.findings.find((f) => f.layer === "tls");
    expect(tls?.code, why(r)).toBe("TLS_HOSTNAME_MISMATCH");
    expect(tls?.evidence.servername).toBe("nocert.intra.example.com");
    expect(r.verdict).toBe("failing");
  });

  it("reports DNS_DOMAIN_ELSEWHERE when the domain resolves to other addresses than the endpoint", async () => {
    const r = await diagnoseTarget(
      domainTarget("moved.intra.example.com", { endpoint: sim.endpoint }),
    );
    const elsewhere = dnsOf(r).find((f) => f.code === "DNS_DOMAIN_ELSEWHERE");
    expect(elsewhere?.evidence.elsewhere, why(r)).toEqual(["127.0.0.3"]);
    expect(r.primaryCause?.code).toBe("DNS_DOMAIN_ELSEWHERE");
    expect(r.verdict).toBe("failing");
  });
});
