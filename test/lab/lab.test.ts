// Every classification that loopback cannot show, proven against a real network fault: an
// on-prem host, a Direct Connect router and a VPC in network namespaces (see README.md), the
// built CLI run on the on-prem host, the design's codes asserted on the right addresses.
import path from "node:path";
import { writeFileSync, readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  ADDR,
  API_ID,
  DOMAIN,
  MOVED_DOMAIN,
  ORPHAN_DOMAIN,
  STRICT_API_ID,
  ENDPOINT,
  LAB_DIR,
  Lab,
  MIDDLEBOX_PORT,
  STAGES,
  checkSupport,
  describeDiagnosis,
  startEndpoint,
  startInNamespace,
  startResolver,
  stopProcess,
  type Diagnosis,
  type Started,
} from "./lab.js";

const TIMEOUT_MS = 2000;
const TIMEOUT = `${TIMEOUT_MS / 1000}s`;
// A black hole must cost about one timeout, not one per check; machines are noisy, so the
// bound is generous but still far below what a serial diagnosis (several timeouts) would take.
const BLACK_HOLE_REPORT_MS = TIMEOUT_MS * 2 + 1000;
const BLACK_HOLE_WALL_MS = TIMEOUT_MS * 2 + 4000;

const support = checkSupport();
const inCi = process.env.CI === "true";
if (!support.ok) {
  const banner = "!".repeat(78);
  console.error(
    `\n${banner}\n!! NETWORK LAB NOT RUN: ${support.reason}\n!! ${
      inCi
        ? "CI=true: failing, the lab must run in CI."
        : "Skipping. Run as root with iproute2 and iptables (.ci/lab.sh installs them)."
    }\n${banner}\n`,
  );
}

// Only where the lab cannot run, so a machine that runs it shows no phantom skipped test.
if (!support.ok && inCi) {
  describe("network lab prerequisites", () => {
    it("can build network namespaces on this machine", () => {
      expect.fail(`the network lab cannot run here: ${support.reason}`);
    });
  });
}

describe.skipIf(!support.ok)("network lab: diagnose against real faults", () => {
  const lab = new Lab();
  let simulator: Started | undefined;
  let resolver: Started | undefined;
  let middlebox: Started | undefined;
  let simulatorCa = "";
  const downOnExit = (): void => lab.down();

  beforeAll(async () => {
    process.once("exit", downOnExit);
    lab.up();
    resolver = await startResolver(lab);
    simulator = await startEndpoint(lab, [
      "--address",
      ADDR.endpointA6,
      "--address",
      ADDR.endpointB6,
      // A second API behind the same endpoint, in STRICT access mode; custom domain names.
      "--api",
      `${STRICT_API_ID}=STRICT`,
      "--domain",
      DOMAIN,
      "--unassociated-domain",
      ORPHAN_DOMAIN,
    ]);
    simulatorCa = String(simulator.ready.caFile);
  }, 120_000);

  afterEach(async () => {
    if (middlebox) await stopProcess(middlebox.child);
    middlebox = undefined;
    lab.reset();
  });

  afterAll(async () => {
    for (const started of [middlebox, simulator, resolver]) {
      if (started) await stopProcess(started.child);
    }
    lab.down();
    process.removeListener("exit", downOnExit);
  });

  const diagnose = (
    options: { caFile?: string; extra?: string[]; timeout?: string; target?: string[] } & Pick<
      Parameters<Lab["diagnose"]>[0],
      "interrupt"
    > = {},
  ): Promise<Diagnosis> =>
    lab.diagnose({
      caFile: options.caFile ?? simulatorCa,
      timeout: options.timeout ?? TIMEOUT,
      extra: options.extra,
      interrupt: options.interrupt,
      target: options.target,
    });

  const startMiddlebox = async (mode: "intercept" | "deny"): Promise<Started> => {
    middlebox = await startInNamespace(lab.ns("dx"), path.join(LAB_DIR, "middlebox.mjs"), [
      "--host",
      ADDR.router,
      "--port",
      String(MIDDLEBOX_PORT),
      "--mode",
      mode,
      "--dir",
      lab.dir,
      "--name",
      ENDPOINT,
      "--name",
      "*.execute-api.us-east-1.vpce.amazonaws.com",
      "--name",
      "*.execute-api.us-east-1.amazonaws.com",
    ]);
    return middlebox;
  };

  const httpOkStages = (d: Diagnosis, address: string): string[] =>
    d.findings
      .filter((f) => f.code === "HTTP_OK" && f.address === address)
      .map((f) => String(f.stage))
      .sort();
  const codesOf = (d: Diagnosis, filter: { address?: string; layer?: string }): string[] =>
    [
      ...new Set(
        d.findings
          .filter(
            (f) =>
              (filter.address === undefined || f.address === filter.address) &&
              (filter.layer === undefined || f.layer === filter.layer),
          )
          .map((f) => f.code),
      ),
    ].sort();

  /** Verdict and exit code agree with each other and with the expectation. */
  const expectVerdict = (d: Diagnosis, verdict: string, exitCode: number): void => {
    const why = describeDiagnosis(d);
    expect(d.report.verdict, why).toBe(verdict);
    expect(d.report.exitCode, why).toBe(exitCode);
    expect(d.exitCode, why).toBe(exitCode);
  };

  /** The report's one primary cause: its code and the addresses it names. */
  const expectPrimaryCause = (d: Diagnosis, code: string, addresses?: string[]): void => {
    const why = describeDiagnosis(d);
    const cause = d.report.targets[0]?.primaryCause as {
      code?: string;
      addresses?: string[];
    } | null;
    expect(cause?.code, why).toBe(code);
    if (addresses) expect([...(cause?.addresses ?? [])].sort(), why).toEqual([...addresses].sort());
  };

  const expectHealthyThrough = (d: Diagnosis, address: string): void => {
    const why = describeDiagnosis(d);
    expect(codesOf(d, { address, layer: "tcp" }), why).toEqual(["TCP_OK"]);
    expect(codesOf(d, { address, layer: "tls" }), why).toEqual(["TLS_OK"]);
    expect(httpOkStages(d, address), why).toEqual([...STAGES].sort());
  };

  const expectWithinOneTimeout = (d: Diagnosis): void => {
    const why = `${describeDiagnosis(d)}\nwall=${d.wallMs}ms`;
    expect(d.report.durationMs, why).toBeLessThan(BLACK_HOLE_REPORT_MS);
    expect(d.wallMs, why).toBeLessThan(BLACK_HOLE_WALL_MS);
  };

  const expectFailingWith = (
    d: Diagnosis,
    layer: string,
    code: string,
    addresses: string[],
  ): void => {
    const why = describeDiagnosis(d);
    for (const address of addresses) {
      expect(codesOf(d, { address, layer }), `${address}\n${why}`).toEqual([code]);
      expect(httpOkStages(d, address), why).toEqual([]);
    }
  };

  const log = (name: string, d: Diagnosis): void => {
    console.log(
      `lab: ${name}: wall=${d.wallMs}ms ${describeDiagnosis(d).replaceAll("\n", "\n  ")}`,
    );
  };

  it("reports a healthy path through both Availability Zones", async () => {
    const d = await diagnose();
    log("healthy", d);
    expect(codesOf(d, { layer: "dns" }), describeDiagnosis(d)).toEqual(["DNS_OK"]);
    expectHealthyThrough(d, ADDR.endpointA);
    expectHealthyThrough(d, ADDR.endpointB);
    expectVerdict(d, "healthy", 0);
  });

  it("classifies a security group dropping 443 on every address as TCP_TIMEOUT, within one timeout", async () => {
    lab.fault("sg-drop-all");
    const d = await diagnose();
    log("sg-drop-all", d);
    expectFailingWith(d, "tcp", "TCP_TIMEOUT", [ADDR.endpointA, ADDR.endpointB]);
    expectVerdict(d, "failing", 2);
    expectPrimaryCause(d, "TCP_TIMEOUT", [ADDR.endpointA, ADDR.endpointB]);
    expectWithinOneTimeout(d);
  });

  it("classifies one AZ's ENI dropping 443 as TCP_TIMEOUT there and the target as degraded", async () => {
    lab.fault("sg-drop-one");
    const d = await diagnose();
    log("sg-drop-one", d);
    expectFailingWith(d, "tcp", "TCP_TIMEOUT", [ADDR.endpointB]);
    expectHealthyThrough(d, ADDR.endpointA);
    expectVerdict(d, "degraded", 1);
    expectPrimaryCause(d, "TCP_TIMEOUT", [ADDR.endpointB]);
    expectWithinOneTimeout(d);
  });

  it("classifies a firewall rejecting with tcp-reset as TCP_REFUSED", async () => {
    lab.fault("reject-rst");
    const d = await diagnose();
    log("reject-rst", d);
    expectFailingWith(d, "tcp", "TCP_REFUSED", [ADDR.endpointA, ADDR.endpointB]);
    expectVerdict(d, "failing", 2);
    expectPrimaryCause(d, "TCP_REFUSED", [ADDR.endpointA, ADDR.endpointB]);
  });

  it("names every stage (or none) in the primary cause when a connection fault breaks all of them", async () => {
    // A refused connection breaks prod and v2 alike; a cause that names one stage reads as if
    // the other one worked.
    lab.fault("reject-rst");
    const d = await diagnose();
    const cause = d.report.targets[0]?.primaryCause as {
      stages?: string[];
      message?: string;
    } | null;
    const named = [...(cause?.stages ?? [])].sort();
    expect([[], [...STAGES].sort()], `primaryCause: ${JSON.stringify(cause)}`).toContainEqual(
      named,
    );
  });

  it("classifies a missing on-prem route to the VPC as TCP_UNREACHABLE", async () => {
    lab.fault("no-route");
    const d = await diagnose();
    log("no-route", d);
    expectFailingWith(d, "tcp", "TCP_UNREACHABLE", [ADDR.endpointA, ADDR.endpointB]);
    expectVerdict(d, "failing", 2);
    expectPrimaryCause(d, "TCP_UNREACHABLE", [ADDR.endpointA, ADDR.endpointB]);
  });

  it("classifies ICMP host-unreachable from the Direct Connect router as TCP_UNREACHABLE", async () => {
    lab.fault("router-unreachable");
    const d = await diagnose();
    log("router-unreachable", d);
    expectFailingWith(d, "tcp", "TCP_UNREACHABLE", [ADDR.endpointA, ADDR.endpointB]);
    expectVerdict(d, "failing", 2);
    expectPrimaryCause(d, "TCP_UNREACHABLE", [ADDR.endpointA, ADDR.endpointB]);
  });

  it("passes through a 1500-byte hop when ICMP fragmentation-needed gets through (PMTUD works)", async () => {
    // The control for the black hole below: same small hop, only the ICMP differs. The path MTU
    // the VPC learns here must not survive into the next scenario (reset flushes it).
    for (const address of [ADDR.endpointA, ADDR.endpointB]) {
      expect(
        lab.handshakeBytes(address, simulatorCa),
        "server flight vs a 1500-byte hop",
      ).toBeGreaterThan(1500);
    }
    lab.fault("small-hop");
    const d = await diagnose();
    log("pmtu-discovery-works", d);
    expectHealthyThrough(d, ADDR.endpointA);
    expectHealthyThrough(d, ADDR.endpointB);
    expectVerdict(d, "healthy", 0);
  });

  it("classifies a path-MTU black hole (TCP connects, the certificate flight never arrives) as TLS_TIMEOUT", async () => {
    lab.fault("pmtu-blackhole");
    const d = await diagnose();
    log("pmtu-blackhole", d);
    for (const address of [ADDR.endpointA, ADDR.endpointB]) {
      expect(codesOf(d, { address, layer: "tcp" }), describeDiagnosis(d)).toEqual(["TCP_OK"]);
    }
    expectFailingWith(d, "tls", "TLS_TIMEOUT", [ADDR.endpointA, ADDR.endpointB]);
    expectVerdict(d, "failing", 2);
    expectPrimaryCause(d, "TLS_TIMEOUT", [ADDR.endpointA, ADDR.endpointB]);
    expectWithinOneTimeout(d);
    expect(
      lab.fragNeededDropped(),
      "the router must have wanted to send fragmentation-needed",
    ).toBeGreaterThan(0);
  });

  it("flags public DNS answers as DNS_PUBLIC_ADDRESS and sends them no SYN", async () => {
    lab.fault("dns-public");
    lab.zone([ADDR.publicA, ADDR.publicB]);
    const d = await diagnose();
    log("dns-public", d);
    const why = describeDiagnosis(d);
    expect(codesOf(d, { layer: "dns" }), why).toContain("DNS_PUBLIC_ADDRESS");
    expect(
      d.findings.filter((f) => f.layer !== "dns").map((f) => f.code),
      why,
    ).toEqual([]);
    expect(lab.publicPackets(), "packets sent toward the public answers").toBe(0);
    expectVerdict(d, "failing", 2);
    expectPrimaryCause(d, "DNS_PUBLIC_ADDRESS");
  });

  it("classifies a name the resolver does not know as DNS_NXDOMAIN", async () => {
    lab.zone({ rcode: "NXDOMAIN" });
    const d = await diagnose();
    log("nxdomain", d);
    const why = describeDiagnosis(d);
    expect(codesOf(d, { layer: "dns" }), why).toContain("DNS_NXDOMAIN");
    expect(
      d.findings.filter((f) => f.layer !== "dns"),
      why,
    ).toEqual([]);
    expectVerdict(d, "failing", 2);
    expectPrimaryCause(d, "DNS_NXDOMAIN");
  });

  it("classifies a resolver that never answers as DNS_TIMEOUT, within one timeout", async () => {
    lab.fault("resolver-down");
    const d = await diagnose();
    log("resolver-down", d);
    const why = describeDiagnosis(d);
    expect(codesOf(d, { layer: "dns" }), why).toContain("DNS_TIMEOUT");
    expect(
      d.findings.filter((f) => f.layer !== "dns"),
      why,
    ).toEqual([]);
    expectVerdict(d, "failing", 2);
    expectPrimaryCause(d, "DNS_TIMEOUT");
    expectWithinOneTimeout(d);
  });

  it("classifies a stale DNS answer (a VPC address where nothing listens) as TCP_REFUSED, degraded", async () => {
    lab.zone([ADDR.endpointA, ADDR.stale]);
    const d = await diagnose();
    log("stale-address", d);
    expectFailingWith(d, "tcp", "TCP_REFUSED", [ADDR.stale]);
    expectHealthyThrough(d, ADDR.endpointA);
    expectVerdict(d, "degraded", 1);
    expectPrimaryCause(d, "TCP_REFUSED", [ADDR.stale]);
  });

  it("classifies a TLS-intercepting middlebox as TLS_UNTRUSTED_CERT and names its issuer", async () => {
    await startMiddlebox("intercept");
    lab.fault("intercept");
    const d = await diagnose();
    log("tls-intercept", d);
    expectFailingWith(d, "tls", "TLS_UNTRUSTED_CERT", [ADDR.endpointA, ADDR.endpointB]);
    const untrusted = d.findings.filter((f) => f.code === "TLS_UNTRUSTED_CERT");
    for (const finding of untrusted) {
      expect(JSON.stringify(finding), "the finding should name the interceptor's issuer").toContain(
        "Lab Inspection CA",
      );
    }
    expectVerdict(d, "failing", 2);
    expectPrimaryCause(d, "TLS_UNTRUSTED_CERT", [ADDR.endpointA, ADDR.endpointB]);
  });

  it("classifies a trusted proxy answering 403 itself as HTTP_NOT_API_GATEWAY", async () => {
    const proxy = await startMiddlebox("deny");
    lab.fault("intercept");
    // The corporate proxy's CA is trusted on this host, as it would be enterprise-wide.
    const bundle = path.join(lab.dir, "trusted-bundle.pem");
    writeFileSync(
      bundle,
      readFileSync(simulatorCa, "utf8") + readFileSync(String(proxy.ready.caFile), "utf8"),
    );
    const d = await diagnose({ caFile: bundle });
    log("proxy-403", d);
    const why = describeDiagnosis(d);
    for (const address of [ADDR.endpointA, ADDR.endpointB]) {
      expect(codesOf(d, { address, layer: "tls" }), why).toEqual(["TLS_OK"]);
      const http = d.findings.filter((f) => f.layer === "http" && f.address === address);
      expect(http.map((f) => `${f.stage}:${f.code}`).sort(), why).toEqual(
        STAGES.map((stage) => `${stage}:HTTP_NOT_API_GATEWAY`).sort(),
      );
    }
    expectVerdict(d, "failing", 2);
    expectPrimaryCause(d, "HTTP_NOT_API_GATEWAY", [ADDR.endpointA, ADDR.endpointB]);
  });

  it("warns with DNS_OS_MISMATCH when /etc/hosts overrides the endpoint name", async () => {
    lab.fault("hosts-override");
    const d = await diagnose();
    log("hosts-override", d);
    const mismatch = d.findings.filter((f) => f.code === "DNS_OS_MISMATCH");
    expect(
      mismatch.map((f) => f.status),
      describeDiagnosis(d),
    ).toEqual(["warn"]);
    expectHealthyThrough(d, ADDR.endpointA);
    expectHealthyThrough(d, ADDR.endpointB);
    expectVerdict(d, "healthy", 0);
  });

  it("does not report DNS_OS_MISMATCH for the same override with --no-compare-os", async () => {
    lab.fault("hosts-override");
    const d = await diagnose({ extra: ["--no-compare-os"] });
    log("hosts-override-no-compare", d);
    expect(codesOf(d, { layer: "dns" }), describeDiagnosis(d)).toEqual(["DNS_OK"]);
    expectVerdict(d, "healthy", 0);
  });

  // Issue 11: the run tells the truth about itself.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`reports a ${signal} during a SYN black hole as interrupted, not as TCP_TIMEOUT, and exits 3`, async () => {
      lab.fault("sg-drop-all");
      const d = await diagnose({ timeout: "10s", interrupt: { signal, afterMs: 1500 } });
      log(`interrupt-${signal}`, d);
      const why = describeDiagnosis(d);
      expect(d.exitCode, why).toBe(3);
      expect(d.report.interrupted, why).toBe(true);
      expect(d.report.exitCode, why).toBe(3);
      // The 10 s timeout never elapsed: no timeout may be reported, nor its hint.
      expect(
        d.findings.filter((f) => f.code.endsWith("_TIMEOUT")),
        why,
      ).toEqual([]);
      expect(
        d.report.targets[0]?.unfinished.map((u) => `${u.layer} ${u.address}`).sort(),
        why,
      ).toEqual([ADDR.endpointA, ADDR.endpointB].flatMap((a) => STAGES.map(() => `tcp ${a}`)));
      // Besides the JSON log lines, one line for a person.
      const said = d.stderr.split("\n").filter((l) => l && !l.startsWith("{"));
      expect(said, d.stderr).toEqual([
        expect.stringMatching(/^apigw-diag: interrupted after \d+ ms$/),
      ]);
      // Every probe stops at once: well within the 1 s the design allows (2x margin).
      expect(d.exitAfterSignalMs, why).toBeLessThan(2_000);
    });
  }

  it("exits as soon as its report is out while getaddrinfo still retries a silent resolver", async () => {
    lab.fault("resolver-down");
    // glibc's own defaults (5 s per try, 2 tries) instead of the lab's quick ones, so that
    // getaddrinfo goes on long after the 2 s phase timeout, as on a host with a default config.
    const resolvConf = `/etc/netns/${lab.ns("onprem")}/resolv.conf`;
    const quick = readFileSync(resolvConf, "utf8");
    writeFileSync(resolvConf, `nameserver ${ADDR.resolver}\n`);
    let d: Diagnosis;
    try {
      d = await diagnose();
    } finally {
      writeFileSync(resolvConf, quick);
    }
    log("resolver-down-os-lookup", d);
    const why = describeDiagnosis(d);
    expect(d.exitCode, why).toBe(2);
    expect(codesOf(d, { layer: "dns" }), why).toContain("DNS_TIMEOUT");
    // glibc keeps retrying for 10 s and more; the process must not wait for it (200 ms goal,
    // bounded here with a wide margin for a loaded machine).
    expect(d.exitAfterReportMs, why).toBeLessThan(1_000);
  });

  // ---- today's private APIs: dualstack endpoints, STRICT access mode, custom domains -----------

  const dualstack = (): void =>
    lab.zone({
      A: [ADDR.endpointA, ADDR.endpointB],
      AAAA: [ADDR.endpointA6, ADDR.endpointB6],
    });
  const v6: string[] = [ADDR.endpointA6, ADDR.endpointB6];

  it("reports a dualstack endpoint healthy with its global IPv6 addresses probed", async () => {
    dualstack();
    const d = await diagnose();
    log("dualstack", d);
    const dns = d.findings.find((f) => f.layer === "dns" && f.code === "DNS_OK");
    expect(dns?.evidence?.rules, describeDiagnosis(d)).toMatchObject({
      [ADDR.endpointA6]: "dualstack",
      [ADDR.endpointB6]: "dualstack",
    });
    for (const address of [ADDR.endpointA, ADDR.endpointB, ...v6]) expectHealthyThrough(d, address);
    expectVerdict(d, "healthy", 0);
  });

  it("is degraded and names the IPv6 addresses when a security group drops IPv6 only", async () => {
    dualstack();
    lab.fault("sg-drop-v6");
    const d = await diagnose();
    log("dualstack-v6-dropped", d);
    expectFailingWith(d, "tcp", "TCP_TIMEOUT", v6);
    expectHealthyThrough(d, ADDR.endpointA);
    expectHealthyThrough(d, ADDR.endpointB);
    expectVerdict(d, "degraded", 1);
    expectPrimaryCause(d, "TCP_TIMEOUT", v6);
    const cause = d.report.targets[0]?.primaryCause as { hint?: string } | null;
    expect(cause?.hint).toMatch(/Only the IPv6 addresses/);
    expect(lab.v6Dropped(), "the VPC must have dropped IPv6 SYNs").toBeGreaterThan(0);
    expectWithinOneTimeout(d);
  });

  it("is degraded with TLS_TIMEOUT on IPv6 only when ICMPv6 Packet Too Big is filtered", async () => {
    dualstack();
    lab.fault("pmtu-blackhole-v6");
    const d = await diagnose();
    log("dualstack-pmtu-blackhole-v6", d);
    for (const address of v6) {
      expect(codesOf(d, { address, layer: "tcp" }), describeDiagnosis(d)).toEqual(["TCP_OK"]);
    }
    expectFailingWith(d, "tls", "TLS_TIMEOUT", v6);
    // IPv4 learns the path MTU from the router's ICMP and stays healthy on the same hop.
    expectHealthyThrough(d, ADDR.endpointA);
    expectHealthyThrough(d, ADDR.endpointB);
    expectVerdict(d, "degraded", 1);
    expectPrimaryCause(d, "TLS_TIMEOUT", v6);
    const cause = d.report.targets[0]?.primaryCause as { hint?: string } | null;
    expect(cause?.hint).toMatch(/IPv6 path-MTU black hole/);
    expectWithinOneTimeout(d);
  });

  it("lists IPv6 addresses as not tried on a host without IPv6, and stays healthy", async () => {
    dualstack();
    lab.fault("onprem-no-ipv6");
    const d = await diagnose();
    log("dualstack-no-ipv6-host", d);
    const why = describeDiagnosis(d);
    expect(
      d.findings.filter((f) => v6.includes(String(f.address))),
      why,
    ).toEqual([]);
    const skipped = d.report.targets[0]?.skipped ?? [];
    expect(skipped.map((s) => s.address).sort(), why).toEqual([...v6].sort());
    for (const s of skipped) expect(s.reason).toMatch(/no IPv6 connectivity/);
    expectHealthyThrough(d, ADDR.endpointA);
    expectHealthyThrough(d, ADDR.endpointB);
    expectVerdict(d, "healthy", 0);
  });

  const strictTarget = (extra: string[] = []): string[] => [
    "--endpoint",
    ENDPOINT,
    "--api-id",
    STRICT_API_ID,
    ...STAGES.flatMap((stage) => ["--stage", stage]),
    ...extra,
  ];

  it("reports a STRICT endpoint as HTTP_MODE_REJECTED in header mode", async () => {
    const d = await diagnose({ target: strictTarget() });
    log("strict-header", d);
    const why = describeDiagnosis(d);
    for (const address of [ADDR.endpointA, ADDR.endpointB]) {
      expect(codesOf(d, { address, layer: "http" }), why).toEqual(["HTTP_MODE_REJECTED"]);
    }
    expectVerdict(d, "failing", 2);
    expectPrimaryCause(d, "HTTP_MODE_REJECTED", [ADDR.endpointA, ADDR.endpointB]);
    const rejected = d.findings.find((f) => f.code === "HTTP_MODE_REJECTED");
    const e = rejected?.evidence?.comparison as
      Record<string, { status?: number; requestId?: string }> | undefined;
    expect(e?.header?.status, why).toBe(403);
    expect(e?.host?.status, why).toBe(200);
    expect(e?.host?.requestId, why).toBeTruthy();
  });

  it("reports the same STRICT API healthy in host mode", async () => {
    const d = await diagnose({ target: strictTarget(["--mode", "host"]) });
    log("strict-host", d);
    expectHealthyThrough(d, ADDR.endpointA);
    expectHealthyThrough(d, ADDR.endpointB);
    expectVerdict(d, "healthy", 0);
  });

  it("still reports a wrong API id without STRICT as HTTP_FORBIDDEN", async () => {
    const d = await diagnose({
      target: ["--endpoint", ENDPOINT, "--api-id", "zzzzzzzzzz", "--stage", "prod"],
    });
    log("wrong-api-id", d);
    expect(codesOf(d, { layer: "http" }), describeDiagnosis(d)).toEqual(["HTTP_FORBIDDEN"]);
    expectPrimaryCause(d, "HTTP_FORBIDDEN");
    expect(d.report.targets[0]?.comparisons?.every((c) => c.status === 403)).toBe(true);
  });

  const domainTarget = (domain: string, extra: string[] = []): string[] => [
    "--domain",
    domain,
    "--base-path",
    "prod",
    "--base-path",
    "v2",
    ...extra,
  ];

  it("reports a private custom domain name healthy, alone and with --endpoint", async () => {
    for (const extra of [[], ["--endpoint", ENDPOINT]]) {
      const d = await diagnose({ target: domainTarget(DOMAIN, extra) });
      log(`domain${extra.length ? "-with-endpoint" : ""}`, d);
      expectHealthyThrough(d, ADDR.endpointA);
      expectHealthyThrough(d, ADDR.endpointB);
      expect(codesOf(d, { layer: "dns" }), describeDiagnosis(d)).toEqual(["DNS_OK"]);
      expectVerdict(d, "healthy", 0);
    }
  });

  it("reports a domain without an association as HTTP_DOMAIN_FORBIDDEN", async () => {
    const d = await diagnose({
      target: domainTarget(ORPHAN_DOMAIN, [
        "--endpoint",
        ENDPOINT,
        "--api-id",
        API_ID,
        "--stage",
        "prod",
      ]),
    });
    log("domain-unassociated", d);
    for (const address of [ADDR.endpointA, ADDR.endpointB]) {
      expect(codesOf(d, { address, layer: "http" }), describeDiagnosis(d)).toEqual([
        "HTTP_DOMAIN_FORBIDDEN",
      ]);
    }
    expectVerdict(d, "failing", 2);
    expectPrimaryCause(d, "HTTP_DOMAIN_FORBIDDEN", [ADDR.endpointA, ADDR.endpointB]);
  });

  it("reports a domain that resolves to another endpoint as DNS_DOMAIN_ELSEWHERE", async () => {
    const d = await diagnose({ target: domainTarget(MOVED_DOMAIN, ["--endpoint", ENDPOINT]) });
    log("domain-elsewhere", d);
    const elsewhere = d.findings.find((f) => f.code === "DNS_DOMAIN_ELSEWHERE");
    expect(elsewhere?.evidence?.elsewhere, describeDiagnosis(d)).toEqual([ADDR.stale]);
    expectVerdict(d, "failing", 2);
    expectPrimaryCause(d, "DNS_DOMAIN_ELSEWHERE");
  });
});
