import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { diagnoseTarget as runTarget, type RunOptions } from "../../src/diagnose/run.js";
import type { PreparedTarget } from "../../src/config/prepare.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import type { FindingCode, FindingOf, Layer, TargetReport } from "../../src/types.js";
import { second, simRun, simTarget } from "../helpers.js";

let sim: Simulator;
/** The second AZ's address: 127.0.0.2, or ::1 where loopback holds 127.0.0.1 alone (macOS). */
let b: string;
const diagnoseTarget = (t: PreparedTarget, o: RunOptions = {}) =>
  runTarget(t, { ...simRun(sim), ...o });

beforeAll(async () => {
  sim = await startSimulator();
  b = second(sim);
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.setFaults({});
  sim.setStages({ prod: "ok", v2: "ok" });
});

const codes = (r: TargetReport, layer?: string): FindingCode[] =>
  r.findings.filter((f) => !layer || f.layer === layer).map((f) => f.code);
const at = <L extends Layer>(
  r: TargetReport,
  address: string,
  layer: L,
  stage?: string,
): FindingOf<L> | undefined =>
  r.findings.find(
    (f): f is FindingOf<L> =>
      f.address === address && f.layer === layer && (stage === undefined || f.stage === stage),
  );
/** The first finding of `layer` (the first resolver's, for dns). */
const first = <L extends Layer>(r: TargetReport, layer: L): FindingOf<L> | undefined =>
  r.findings.find((f): f is FindingOf<L> => f.layer === layer);

describe("diagnose against the simulator", () => {
  it("reports a healthy endpoint as healthy with every layer OK and phase timings", async () => {
    const r = await diagnoseTarget(simTarget(sim));
    expect(r.verdict).toBe("healthy");
    expect(r.primaryCause).toBeNull();
    expect(codes(r, "dns")).toEqual(["DNS_OK"]);
    expect(codes(r, "tcp").sort()).toEqual(["TCP_OK", "TCP_OK"]);
    expect(codes(r, "tls").sort()).toEqual(["TLS_OK", "TLS_OK"]);
    expect(codes(r, "http")).toHaveLength(4);
    expect(new Set(codes(r, "http"))).toEqual(new Set(["HTTP_OK"]));
    const http = at(r, "127.0.0.1", "http", "prod");
    expect(http?.timings).toMatchObject({
      dns: expect.any(Number),
      connect: expect.any(Number),
      tls: expect.any(Number),
      ttfb: expect.any(Number),
    });
    expect(http?.timings.total).toBeGreaterThanOrEqual(http?.timings.ttfb ?? 0);
    const tls = at(r, b, "tls");
    expect(tls?.evidence.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(String(tls?.evidence.issuer)).toContain("CN=");
  });

  it("says a stage that answers Forbidden while another works is probably not deployed", async () => {
    sim.setStages({ prod: "ok" });
    const r = await diagnoseTarget(simTarget(sim));
    expect(r.verdict).toBe("degraded");
    expect(r.primaryCause?.code).toBe("HTTP_FORBIDDEN");
    expect(r.primaryCause?.stages).toEqual(["v2"]);
    expect(r.primaryCause?.hint).toMatch(/not deployed/);
  });

  it("gives a refused answer what a support case asks for, and a working one nothing extra", async () => {
    sim.setStages({ prod: "ok" });
    const before = Date.now();
    const r = await diagnoseTarget(simTarget(sim));
    const refused = at(r, "127.0.0.1", "http", "v2");
    expect(refused?.code).toBe("HTTP_FORBIDDEN");
    expect(refused?.evidence).toMatchObject({
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      apigwId: expect.stringMatching(/=$/),
      sni: sim.endpoint,
      host: `${sim.endpoint}:${sim.port}`,
      tlsVersion: expect.stringMatching(/^TLSv1\.[23]$/),
      tlsCipher: expect.any(String),
    });
    const sentAt = Date.parse(refused?.evidence.requestedAt ?? "");
    expect(sentAt).toBeGreaterThanOrEqual(before - 1000);
    expect(refused?.evidence.requestedAt).toMatch(/Z$/);
    const ok = at(r, "127.0.0.1", "http", "prod");
    expect(ok?.code).toBe("HTTP_OK");
    expect(ok?.evidence.requestedAt).toBeUndefined();
  });

  it("says a wrong API id when every stage answers Forbidden", async () => {
    const r = await diagnoseTarget(simTarget(sim, { apiId: "zzzzzzzzzz" }));
    expect(r.verdict).toBe("failing");
    expect(r.primaryCause?.code).toBe("HTTP_FORBIDDEN");
    expect(r.primaryCause?.hint).toMatch(/API id/);
  });

  const stageCases: [string, FindingCode][] = [
    ["missing-token", "HTTP_MISSING_AUTH_TOKEN"],
    ["deny", "HTTP_POLICY_DENY"],
    ["no-allow", "HTTP_POLICY_NO_ALLOW"],
    ["unauthorized", "HTTP_UNAUTHORIZED"],
    ["throttled", "HTTP_THROTTLED"],
    ["backend-error", "HTTP_BACKEND_ERROR"],
  ];
  it.each(stageCases)("classifies a stage answering %s as %s", async (behaviour, code) => {
    sim.setStages({ prod: "ok", v2: behaviour as "ok" });
    const r = await diagnoseTarget(simTarget(sim));
    expect(r.verdict).toBe("degraded");
    expect(at(r, "127.0.0.1", "http", "v2")?.code).toBe(code);
    expect(at(r, b, "http", "v2")?.code).toBe(code);
    expect(at(r, "127.0.0.1", "http", "prod")?.code).toBe("HTTP_OK");
    expect(r.primaryCause?.code).toBe(code);
  });

  it("classifies a wrong path as HTTP_MISSING_AUTH_TOKEN", async () => {
    const r = await diagnoseTarget(simTarget(sim, { path: "/no/such/resource" }));
    expect(new Set(codes(r, "http"))).toEqual(new Set(["HTTP_MISSING_AUTH_TOKEN"]));
    expect(r.verdict).toBe("failing");
  });

  it("classifies a closed port as TCP_REFUSED and does not try TLS or HTTP there", async () => {
    sim.setFaults({ address: { [b]: "refuse" } });
    const r = await diagnoseTarget(simTarget(sim));
    expect(at(r, b, "tcp")?.code).toBe("TCP_REFUSED");
    expect(at(r, b, "tls")).toBeUndefined();
    expect(at(r, b, "http")).toBeUndefined();
    expect(r.skipped).toContainEqual(
      expect.objectContaining({ address: b, layers: ["tls", "http"] }),
    );
    expect(r.verdict).toBe("degraded");
    expect(r.primaryCause).toMatchObject({
      code: "TCP_REFUSED",
      addresses: [b],
      stages: [],
    });
    // One finding for the address, not one per stage's connection.
    expect(r.findings.filter((f) => f.code === "TCP_REFUSED")).toHaveLength(1);
    // Where the second AZ is ::1, the hint also says the failing addresses are the IPv6 ones.
    expect(r.primaryCause?.hint).toMatch(
      b === "::1"
        ? /Only the IPv6 addresses ::1 fail while 127\.0\.0\.1 work/
        : /Only 127\.0\.0\.2/,
    );
  });

  it("classifies a server that accepts and stays silent as TLS_TIMEOUT within about one timeout", async () => {
    sim.setFaults({ address: { "127.0.0.1": "tls-stall", [b]: "tls-stall" } });
    const started = performance.now();
    const r = await diagnoseTarget(simTarget(sim, { timeout: "500ms" }));
    const took = performance.now() - started;
    expect(new Set(codes(r, "tls"))).toEqual(new Set(["TLS_TIMEOUT"]));
    expect(r.verdict).toBe("failing");
    expect(r.primaryCause?.code).toBe("TLS_TIMEOUT");
    // Four stalled handshakes run at once: the whole run costs one timeout, not four.
    expect(took).toBeLessThan(4 * 500);
  });

  it("classifies a certificate from another CA as TLS_UNTRUSTED_CERT and names its issuer", async () => {
    sim.setFaults({ address: { "127.0.0.1": "untrusted-cert" } });
    const r = await diagnoseTarget(simTarget(sim));
    const f = at(r, "127.0.0.1", "tls");
    expect(f?.code).toBe("TLS_UNTRUSTED_CERT");
    expect(f?.message).toContain("Corp TLS Inspection CA");
    expect(at(r, "127.0.0.1", "http")).toBeUndefined();
    expect(r.verdict).toBe("degraded");
  });

  it("goes on past an untrusted certificate with --insecure and says so", async () => {
    sim.setFaults({ address: { "127.0.0.1": "untrusted-cert" } });
    const r = await diagnoseTarget(simTarget(sim, { insecure: true }));
    const f = at(r, "127.0.0.1", "tls");
    expect(f).toMatchObject({ code: "TLS_OK", status: "warn" });
    expect(f?.evidence.insecureIgnored).toBe("TLS_UNTRUSTED_CERT");
    expect(r.insecure).toBe(true);
    expect(at(r, "127.0.0.1", "http", "prod")?.code).toBe("HTTP_OK");
  });

  it("classifies a certificate for another name as TLS_HOSTNAME_MISMATCH", async () => {
    sim.setFaults({ address: { [b]: "wrong-name" } });
    const r = await diagnoseTarget(simTarget(sim));
    expect(at(r, b, "tls")?.code).toBe("TLS_HOSTNAME_MISMATCH");
  });

  it("classifies a reset during the handshake as TLS_HANDSHAKE_FAILED", async () => {
    sim.setFaults({ address: { [b]: "tls-reset" } });
    const r = await diagnoseTarget(simTarget(sim));
    expect(at(r, b, "tls")?.code).toBe("TLS_HANDSHAKE_FAILED");
  });

  it("classifies a request that gets no response as HTTP_TIMEOUT", async () => {
    sim.setFaults({ address: { "127.0.0.1": "http-stall" } });
    const r = await diagnoseTarget(simTarget(sim, { timeout: "500ms" }));
    expect(at(r, "127.0.0.1", "http", "prod")?.code).toBe("HTTP_TIMEOUT");
    expect(at(r, "127.0.0.1", "http", "v2")?.code).toBe("HTTP_TIMEOUT");
    expect(at(r, b, "http", "prod")?.code).toBe("HTTP_OK");
  });

  it("classifies a proxy's own 403 and a garbage answer as HTTP_NOT_API_GATEWAY", async () => {
    sim.setFaults({ address: { "127.0.0.1": "proxy-403", [b]: "http-garbage" } });
    const r = await diagnoseTarget(simTarget(sim));
    expect(new Set(codes(r, "http"))).toEqual(new Set(["HTTP_NOT_API_GATEWAY"]));
    expect(r.verdict).toBe("failing");
  });

  const dnsCases: [string, FindingCode][] = [
    ["nxdomain", "DNS_NXDOMAIN"],
    ["nodata", "DNS_NODATA"],
    ["servfail", "DNS_SERVFAIL"],
    ["refused", "DNS_REFUSED"],
    ["malformed", "DNS_MALFORMED"],
    ["wrong-id", "DNS_MALFORMED"],
    ["timeout", "DNS_TIMEOUT"],
  ];
  it.each(dnsCases)(
    "classifies a resolver answering %s as %s and tries nothing above",
    async (fault, code) => {
      sim.setFaults({ dns: fault as "nxdomain" });
      const before = sim.stats().connections;
      const r = await diagnoseTarget(simTarget(sim, { timeout: "400ms" }));
      expect(codes(r)).toEqual([code]);
      expect(r.verdict).toBe("failing");
      expect(r.primaryCause?.code).toBe(code);
      expect(r.skipped).toEqual([{ layers: ["tcp", "tls", "http"], reason: expect.any(String) }]);
      expect(sim.stats().connections).toBe(before);
    },
  );

  it("reports public answers as DNS_PUBLIC_ADDRESS and never connects to them", async () => {
    sim.setFaults({ dns: "public" });
    const r = await diagnoseTarget(simTarget(sim));
    const f = first(r, "dns");
    expect(f?.code).toBe("DNS_PUBLIC_ADDRESS");
    expect(f?.evidence.public).toEqual(expect.arrayContaining(["52.94.133.131"]));
    expect(r.findings.filter((x) => x.layer !== "dns")).toEqual([]);
    expect(r.verdict).toBe("failing");
  });

  it("retries over TCP when the UDP answer is truncated", async () => {
    sim.setFaults({ dns: "truncate" });
    const r = await diagnoseTarget(simTarget(sim));
    const dns = first(r, "dns");
    expect(dns?.code).toBe("DNS_OK");
    const a = dns?.evidence.queries?.find((q) => q.type === "A");
    expect(a).toMatchObject({ transport: "tcp", truncated: true });
    expect(r.verdict).toBe("healthy");
  });

  it("reports an OS resolver that disagrees as DNS_OS_MISMATCH (warn) and stays healthy", async () => {
    const r = await diagnoseTarget(simTarget(sim, { compareOs: true }), {
      lookup: async () => ["10.9.9.9"],
    });
    const f = r.findings.find((x) => x.code === "DNS_OS_MISMATCH");
    expect(f?.status).toBe("warn");
    expect(f?.evidence).toMatchObject({ os: ["10.9.9.9"], dns: ["127.0.0.1", b] });
    expect(r.verdict).toBe("healthy");
  });

  it("uses the private API name in host mode and the Route 53 alias in alias mode", async () => {
    for (const [mode, name] of [
      ["host", sim.apiHost],
      ["alias", sim.aliasHost],
    ] as const) {
      const r = await diagnoseTarget(simTarget(sim, { mode }));
      expect(r.verdict).toBe("healthy");
      expect(first(r, "dns")?.evidence.name).toBe(name);
      expect(at(r, "127.0.0.1", "tls")?.evidence.servername).toBe(name);
    }
  });

  it("asks every configured resolver and reports each", async () => {
    const target = simTarget(sim, {
      resolvers: [`${sim.dns.host}:${sim.dns.port}`, `127.0.0.1:${sim.dns.port}`],
    });
    target.resolvers.push({ host: "127.0.0.3", port: sim.dns.port }); // nobody listens there: refused at once
    const r = await diagnoseTarget(target);
    const dns = r.findings.filter((f) => f.layer === "dns");
    expect(dns.map((f) => f.code)).toEqual(["DNS_OK", "DNS_OK", "DNS_TIMEOUT"]);
    expect(r.verdict).toBe("degraded");
    expect(r.primaryCause?.code).toBe("DNS_TIMEOUT");
  });

  it("never sends secret header values anywhere in the report", async () => {
    const r = await diagnoseTarget(
      simTarget(sim, { headers: ["x-api-key: s3cr3t-value", "x-trace: visible"] }),
    );
    const text = JSON.stringify(r);
    expect(text).not.toContain("s3cr3t-value");
    expect(text).toContain("visible");
    expect(at(r, "127.0.0.1", "http", "prod")?.evidence.headers).toMatchObject({
      "x-api-key": "[REDACTED]",
    });
  });
});
