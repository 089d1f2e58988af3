// The path layer's judgement: zonal names and the AZ they give (asked of a real DNS server on
// loopback), expectPath, the proxy variables, and the hints made concrete with path facts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  classifyPath,
  lookupAzs,
  pathLayer,
  noProxyCovers,
  proxyFinding,
  withPathFacts,
  zonalNames,
} from "../../src/diagnose/path.js";
import { HINTS } from "../../src/hints.js";
import { finding } from "../../src/diagnose/classify.js";
import { summarize } from "../../src/diagnose/verdict.js";
import { startDnsServer, type DnsServer } from "../../src/simulator/dns-server.js";
import { FaultState } from "../../src/simulator/faults.js";
import type { PathObservation } from "../../src/probes/path.js";
import type { AddressInfo } from "../../src/types.js";
import { resolveSettings } from "../../src/config/load.js";
import { diagnose } from "../../src/diagnose/run.js";
import type { PreparedTarget } from "../../src/config/prepare.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { second, simRun, simTarget } from "../helpers.js";

const ENDPOINT = "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.eu-west-3.vpce.amazonaws.com";
const ctx = { signal: new AbortController().signal, timeoutMs: 2000 };

const info = (over: Partial<AddressInfo> = {}): AddressInfo => ({
  address: "10.20.1.10",
  family: 4,
  az: "eu-west-3a",
  source: "10.250.0.10",
  interface: "dx0",
  gateway: "10.250.0.1",
  mtu: 9000,
  ...over,
});
const observed = (i: AddressInfo, over: Partial<PathObservation> = {}): PathObservation => ({
  ...i,
  durationMs: 0.2,
  ...over,
});

describe("zonalNames", () => {
  it("names the endpoint's zonal DNS name for each AZ letter of its region", () => {
    const names = zonalNames(ENDPOINT);
    expect(names.map((n) => n.az)).toEqual([
      "eu-west-3a",
      "eu-west-3b",
      "eu-west-3c",
      "eu-west-3d",
      "eu-west-3e",
      "eu-west-3f",
    ]);
    expect(names[1]?.name).toBe(
      "vpce-0a1b2c3d4e5f60718-abcdefgh-eu-west-3b.execute-api.eu-west-3.vpce.amazonaws.com",
    );
  });

  it("parses names of the China partition alike", () => {
    const [first] = zonalNames(
      "vpce-0123456789abcdef0-abcd1234.execute-api.cn-north-1.vpce.amazonaws.com.cn",
    );
    expect(first?.name).toBe(
      "vpce-0123456789abcdef0-abcd1234-cn-north-1a.execute-api.cn-north-1.vpce.amazonaws.com.cn",
    );
  });

  it("has none for a zonal name, a custom domain, or no endpoint", () => {
    expect(zonalNames(zonalNames(ENDPOINT)[0]?.name)).toEqual([]);
    expect(zonalNames("ledger.intra.example.com")).toEqual([]);
    expect(zonalNames(undefined)).toEqual([]);
  });
});

describe("lookupAzs on a DNS server", () => {
  let server: DnsServer;
  const [a, b] = zonalNames(ENDPOINT);

  beforeAll(async () => {
    server = await startDnsServer({
      host: "127.0.0.1",
      port: 0,
      // Two AZs: every other zonal name does not exist (NXDOMAIN), as AWS answers.
      zone: {
        names: [ENDPOINT, a!.name, b!.name],
        addresses: ["10.20.1.10", "10.20.2.10", "fd00:20:1::10"],
        overrides: {
          [a!.name]: ["10.20.1.10", "fd00:20:1::10"],
          [b!.name]: ["10.20.2.10"],
        },
      },
      faults: new FaultState(),
      onQuery: () => {},
    });
  });
  afterAll(() => server.close());

  it("maps each address to the AZ whose zonal name answers it, IPv6 too", async () => {
    const resolver = { host: "127.0.0.1", port: server.port };
    const azs = await lookupAzs(ctx, ENDPOINT, resolver, [
      "10.20.1.10",
      "10.20.2.10",
      "fd00:20:1:0::10",
      "10.20.3.50",
    ]);
    expect(azs.get("10.20.1.10")).toBe("eu-west-3a");
    expect(azs.get("10.20.2.10")).toBe("eu-west-3b");
    expect(azs.get("fd00:20:1:0:0:0:0:10")).toBe("eu-west-3a");
    expect(azs.has("10.20.3.50")).toBe(false);
  });

  it("asks nothing without a regional endpoint name", async () => {
    const resolver = { host: "127.0.0.1", port: server.port };
    expect((await lookupAzs(ctx, "ledger.intra.example.com", resolver, ["10.20.1.10"])).size).toBe(
      0,
    );
  });
});

describe("classifyPath", () => {
  const expectDx = { sources: ["10.250.0.0/24"], interfaces: ["dx0"] };

  it("is PATH_OK without an expectation, and says where the traffic goes", () => {
    const f = classifyPath(info(), observed(info()));
    expect(f).toMatchObject({ layer: "path", code: "PATH_OK", status: "pass" });
    expect(f.address).toBe("10.20.1.10");
    expect(f.message).toBe(
      "10.20.1.10: from 10.250.0.10 dev dx0 via 10.250.0.1 mtu 9000 az eu-west-3a",
    );
    expect(f.evidence.path).toEqual(info());
  });

  it("is PATH_OK when source and interface are the expected ones", () => {
    expect(classifyPath(info(), observed(info()), expectDx).code).toBe("PATH_OK");
  });

  it("is PATH_UNEXPECTED for a more specific route into a tunnel", () => {
    const tunnel = info({ address: "10.20.2.10", source: "10.99.0.2", interface: "tun0" });
    const f = classifyPath(tunnel, observed(tunnel), expectDx);
    expect(f).toMatchObject({ code: "PATH_UNEXPECTED", status: "fail", address: "10.20.2.10" });
    expect(f.evidence.unexpected).toEqual(["source", "interface"]);
    expect(f.message).toContain("expected source in 10.250.0.0/24 and interface dx0");
  });

  it("is PATH_UNEXPECTED for an IPv6 address leaving by the internet-facing interface", () => {
    const v6 = info({ address: "2001:db8:20:1::10", family: 6, source: "2001:db8:a::10" });
    const f = classifyPath(v6, observed(v6), { sources: [], interfaces: ["eth1"] });
    expect(f.code).toBe("PATH_UNEXPECTED");
    expect(f.evidence.unexpected).toEqual(["interface"]);
    // An IPv6 source is never inside an IPv4 range.
    expect(classifyPath(v6, observed(v6), { sources: ["0.0.0.0/0"], interfaces: [] }).code).toBe(
      "PATH_UNEXPECTED",
    );
  });

  it("is PATH_UNEXPECTED when the kernel has no route at all", () => {
    const none = info({ source: null, interface: null, gateway: null, mtu: null });
    const f = classifyPath(none, observed(none, { errno: "ENETUNREACH" }), expectDx);
    expect(f.code).toBe("PATH_UNEXPECTED");
    expect(f.message).toContain("ENETUNREACH");
  });

  it("makes the path the primary cause below a timeout on the same address", () => {
    const tunnel = info({ address: "10.20.2.10", source: "10.99.0.2", interface: "tun0" });
    const path = classifyPath(tunnel, observed(tunnel), expectDx);
    const tcp = finding(
      "TCP_TIMEOUT",
      "no answer",
      { port: 443 },
      { total: 1 },
      {
        address: "10.20.2.10",
      },
    );
    const ok = finding(
      "HTTP_OK",
      "200",
      { request: "GET /prod/" },
      { total: 1 },
      {
        address: "10.20.1.10",
        stage: "prod",
      },
    );
    const { verdict, primaryCause } = summarize(
      [path, tcp, ok],
      ["10.20.1.10", "10.20.2.10"],
      ["prod"],
    );
    expect(verdict).toBe("degraded");
    expect(primaryCause).toMatchObject({
      layer: "path",
      code: "PATH_UNEXPECTED",
      addresses: ["10.20.2.10"],
    });
  });
});

describe("PATH_PROXY_ENV", () => {
  it("warns when HTTPS_PROXY is set and NO_PROXY does not cover the name", () => {
    const f = proxyFinding(ENDPOINT, { HTTPS_PROXY: "http://proxy.corp:3128" });
    expect(f).toMatchObject({ layer: "path", code: "PATH_PROXY_ENV", status: "warn" });
    expect(f?.evidence).toMatchObject({ variable: "HTTPS_PROXY", noProxy: "" });
  });

  it("reads https_proxy and ALL_PROXY too, and never shows the proxy's credentials", () => {
    const f = proxyFinding(ENDPOINT, { https_proxy: "http://alice:s3cret@proxy.corp:3128" });
    expect(f?.evidence.variable).toBe("https_proxy");
    expect(JSON.stringify(f)).not.toContain("s3cret");
    expect(JSON.stringify(f)).not.toContain("alice");
    const all = proxyFinding(ENDPOINT, { ALL_PROXY: "bob:pw@socks.corp:1080" });
    expect(all?.evidence.variable).toBe("ALL_PROXY");
    expect(JSON.stringify(all)).not.toContain("pw@");
  });

  it("is silent when NO_PROXY covers the name, or no proxy is set", () => {
    const proxy = { HTTPS_PROXY: "http://proxy.corp:3128" };
    expect(proxyFinding(ENDPOINT, { ...proxy, NO_PROXY: ".vpce.amazonaws.com" })).toBeNull();
    expect(proxyFinding(ENDPOINT, { ...proxy, no_proxy: "localhost, amazonaws.com" })).toBeNull();
    expect(proxyFinding(ENDPOINT, { ...proxy, NO_PROXY: "*" })).toBeNull();
    expect(proxyFinding(ENDPOINT, { HTTP_PROXY: "http://proxy.corp:3128" })).toBeNull();
    expect(proxyFinding(ENDPOINT, {})).toBeNull();
  });

  it("matches NO_PROXY entries as curl does", () => {
    expect(noProxyCovers("example.com", "api.example.com")).toBe(true);
    expect(noProxyCovers("*.example.com", "api.example.com")).toBe(true);
    expect(noProxyCovers("example.com:443", "example.com")).toBe(true);
    expect(noProxyCovers("ample.com", "api.example.com")).toBe(false);
    expect(noProxyCovers("localhost,10.0.0.0/8", "api.example.com")).toBe(false);
  });
});

describe("hints made concrete by the path", () => {
  it("TCP_TIMEOUT names the source the security group must allow, after the base hint", () => {
    const tcp = finding(
      "TCP_TIMEOUT",
      "no answer",
      { port: 443 },
      { total: 1 },
      {
        address: "10.20.1.10",
      },
    );
    const [made] = withPathFacts([tcp], [info()]);
    expect(made?.hint.startsWith(HINTS.TCP_TIMEOUT)).toBe(true);
    expect(made?.hint).toContain("from 10.250.0.10 (interface dx0)");
    expect(made?.hint).toContain("allow inbound TCP/443 from 10.250.0.10/32");
    expect(tcp.hint, "the finding given is not changed").toBe(HINTS.TCP_TIMEOUT);
  });

  it("TLS_TIMEOUT states the egress interface's MTU", () => {
    const tls = finding(
      "TLS_TIMEOUT",
      "stalled",
      { servername: ENDPOINT },
      { total: 1 },
      {
        address: "10.20.1.10",
      },
    );
    const [made] = withPathFacts([tls], [info()]);
    expect(made?.hint.startsWith(HINTS.TLS_TIMEOUT)).toBe(true);
    expect(made?.hint).toContain("dx0 has MTU 9000");
    expect(made?.hint).toContain("clamped below 8960");
  });

  it("leaves a hint alone when the fact is unknown or the code is another", () => {
    const tls = finding(
      "TLS_TIMEOUT",
      "stalled",
      { servername: ENDPOINT },
      { total: 1 },
      {
        address: "10.20.1.10",
      },
    );
    const refused = finding(
      "TCP_REFUSED",
      "rst",
      { port: 443 },
      { total: 1 },
      {
        address: "10.20.1.10",
      },
    );
    const [a, b] = withPathFacts([tls, refused], [info({ mtu: null })]);
    expect(a?.hint).toBe(HINTS.TLS_TIMEOUT);
    expect(b?.hint).toBe(HINTS.TCP_REFUSED);
  });
});

describe("pathLayer", () => {
  const target = resolveSettings(
    {
      endpoint: ENDPOINT,
      apiId: "a1b2c3d4e5",
      stages: ["prod"],
      resolvers: ["127.0.0.1"],
      expectInterfaces: ["dx0"],
    },
    {},
    {},
  ).targets[0]!;

  it("gives every resolved address its path, and judges only the addresses tried", async () => {
    // ::1 stands for an IPv6 answer of a family not probed (--family 4, or no IPv6 here).
    const layer = await pathLayer(
      target,
      ctx,
      { resolved: ["127.0.0.1", "::1"], tried: ["127.0.0.1"] },
      undefined,
      {},
    );
    expect(layer.addressInfo.map((i) => [i.address, i.source])).toEqual([
      ["127.0.0.1", "127.0.0.1"],
      ["::1", "::1"],
    ]);
    expect(layer.findings.map((f) => [f.code, f.address])).toEqual([
      ["PATH_UNEXPECTED", "127.0.0.1"],
    ]);
  });

  it("adds PATH_PROXY_ENV once, for the name the requests are for", async () => {
    const layer = await pathLayer(
      target,
      ctx,
      { resolved: ["127.0.0.1"], tried: ["127.0.0.1"] },
      undefined,
      { ALL_PROXY: "socks5://proxy.corp:1080" },
    );
    const proxy = layer.findings.filter((f) => f.code === "PATH_PROXY_ENV");
    expect(proxy).toHaveLength(1);
    expect(proxy[0]?.evidence.name).toBe(ENDPOINT);
    expect(proxy[0]?.address).toBeUndefined();
  });
});

describe("a diagnosis with expectPath, on the simulator", () => {
  let sim: Simulator;
  /** The second AZ's address: 127.0.0.2, or ::1 where loopback holds 127.0.0.1 alone (macOS). */
  let b: string;
  const run = (target: PreparedTarget) => diagnose([target], simRun(sim));
  beforeAll(async () => {
    sim = await startSimulator();
    b = second(sim);
  });
  afterAll(() => sim.close());

  it("reports addressInfo for every address and fails the path that is not the expected one", async () => {
    const report = await run(simTarget(sim, { expectInterfaces: ["dx0"] }));
    const [t] = report.targets;
    expect(t?.addressInfo?.map((i) => [i.address, i.source])).toEqual([
      ["127.0.0.1", "127.0.0.1"],
      // The kernel's source toward 127.0.0.2 is 127.0.0.1; toward ::1, ::1.
      [b, b === "::1" ? "::1" : "127.0.0.1"],
    ]);
    const path = t?.findings.filter((f) => f.layer === "path") ?? [];
    expect(path.map((f) => [f.code, f.address])).toEqual([
      ["PATH_UNEXPECTED", "127.0.0.1"],
      ["PATH_UNEXPECTED", b],
    ]);
    // Upper layers are still tried: the API answers, over a path that is not Direct Connect.
    expect(t?.findings.filter((f) => f.code === "HTTP_OK")).toHaveLength(4);
    expect(t?.verdict).toBe("degraded");
    expect(t?.primaryCause).toMatchObject({ layer: "path", code: "PATH_UNEXPECTED" });
    // Path findings follow the DNS findings, before any connection's.
    expect(t?.findings.map((f) => f.layer).slice(0, 3)).toEqual(["dns", "path", "path"]);
  });

  it("passes the path that is the expected one", async () => {
    const report = await run(simTarget(sim, { expectSources: ["127.0.0.0/8", "::1/128"] }));
    const [t] = report.targets;
    expect(t?.findings.filter((f) => f.layer === "path").map((f) => f.code)).toEqual([
      "PATH_OK",
      "PATH_OK",
    ]);
    expect(t?.verdict).toBe("healthy");
  });
});
