// Issue 23's checks against real faults in the namespace lab (README.md): dnsmasq as the Route 53
// Resolver inbound endpoint, forwarding the whole execute-api zone or publishing AAAA records
// only; the simulator over veths refusing a STRICT API with 421, or accepting TLS 1.3 only. The
// built CLI runs on the on-prem host; the codes are asserted on the right addresses.
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADDR,
  ENDPOINT,
  Lab,
  STAGES,
  checkSupport,
  describeDiagnosis,
  startEndpoint,
  stopProcess,
  type Diagnosis,
  type Started,
} from "./lab.js";

const TIMEOUT = "2s";
/** A third API behind the endpoint: STRICT, its front end answering header mode with 421. */
const MISDIRECTED_API_ID = "m1s2d3r4c5";
const REGION_ZONE = "execute-api.us-east-1.amazonaws.com";

const hasDnsmasq = spawnSync("sh", ["-c", "command -v dnsmasq"], { stdio: "ignore" }).status === 0;
const base = checkSupport();
const support =
  base.ok && !hasDnsmasq ? { ok: false, reason: "missing dnsmasq (run .ci/lab.sh)" } : base;
const inCi = process.env.CI === "true";
if (!support.ok) console.error(`\n!! NETWORK LAB (issue 23's checks) NOT RUN: ${support.reason}\n`);
if (!support.ok && inCi) {
  describe("network lab prerequisites (issue 23's checks)", () => {
    it("has root, namespaces and dnsmasq", () => {
      expect.fail(`the network lab cannot run here: ${support.reason}`);
    });
  });
}

/** dnsmasq's records: the endpoint's name, and what a scenario adds. */
interface Records {
  /** The endpoint name's addresses, either family. */
  endpoint: string[];
  /** `address=/execute-api.REGION.amazonaws.com/...`: the whole zone answers with these. */
  zoneForward?: string[];
}

function dnsmasqConfig(records: Records): string {
  return [
    "no-resolv",
    "no-hosts",
    "bind-interfaces",
    `listen-address=${ADDR.resolver}`,
    "port=53",
    // Authoritative for these names: a name or type it has no record of gets NXDOMAIN or NODATA,
    // as from a Route 53 private hosted zone, never REFUSED.
    "local=/amazonaws.com/",
    ...records.endpoint.map((a) => `host-record=${ENDPOINT},${a}`),
    ...(records.zoneForward ?? []).map((a) => `address=/${REGION_ZONE}/${a}`),
    "",
  ].join("\n");
}

/** dnsmasq in the foreground in the VPC namespace, on the resolver's address; ready once it says so. */
function startDnsmasq(lab: Lab, records: Records): Promise<Started> {
  const conf = path.join(lab.dir, "dnsmasq.conf");
  writeFileSync(conf, dnsmasqConfig(records));
  const args = ["netns", "exec", lab.ns("vpc"), "dnsmasq", "--keep-in-foreground"];
  args.push(`--conf-file=${conf}`, `--pid-file=${path.join(lab.dir, "dnsmasq.pid")}`);
  args.push("--log-facility=-", "--user=root");
  // `ip netns exec` execs dnsmasq: the child's pid is dnsmasq's own.
  const child = spawn("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  let up = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopProcess(child);
      reject(new Error(`dnsmasq not ready:\n${stderr}`));
    }, 10_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`dnsmasq exited with ${code}:\n${stderr}`));
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      // Once up, its log is drained and no more: a later line must not count as ready again and
      // remove the exit listener stopProcess sets.
      if (up) return;
      stderr += chunk.toString();
      if (/started, version/.test(stderr) && child.pid !== undefined) {
        up = true;
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve({ child, pid: child.pid, ready: {} });
      }
    });
  });
}

describe.skipIf(!support.ok)("network lab: issue 23's checks against real faults", () => {
  const lab = new Lab();
  let dns: Started | undefined;
  let endpoint: Started | undefined;
  let ca = "";
  const downOnExit = (): void => lab.down();
  const v4 = [ADDR.endpointA, ADDR.endpointB];
  const v6 = [ADDR.endpointA6, ADDR.endpointB6];

  const resolveWith = async (records: Records): Promise<void> => {
    if (dns) await stopProcess(dns.child);
    dns = await startDnsmasq(lab, records);
  };
  const serve = async (extra: string[] = []): Promise<void> => {
    if (endpoint) await stopProcess(endpoint.child);
    endpoint = await startEndpoint(lab, [
      ...v6.flatMap((a) => ["--address", a]),
      "--api",
      `${MISDIRECTED_API_ID}=STRICT:421`,
      ...extra,
    ]);
    ca = String(endpoint.ready.caFile);
  };

  beforeAll(async () => {
    process.once("exit", downOnExit);
    lab.up();
    await Promise.all([resolveWith({ endpoint: v4 }), serve()]);
  }, 120_000);

  afterAll(async () => {
    if (dns) await stopProcess(dns.child);
    if (endpoint) await stopProcess(endpoint.child);
    lab.down();
    process.off("exit", downOnExit);
  });

  const diagnose = (target?: string[], extra: string[] = []): Promise<Diagnosis> =>
    lab.diagnose({ caFile: ca, timeout: TIMEOUT, target, extra });
  const log = (name: string, d: Diagnosis): void =>
    console.log(`lab: ${name}: ${describeDiagnosis(d).replaceAll("\n", "\n  ")}`);
  const codes = (d: Diagnosis, where: { address?: string; layer?: string } = {}): string[] =>
    [
      ...new Set(
        d.findings
          .filter(
            (f) =>
              (where.address === undefined || f.address === where.address) &&
              (where.layer === undefined || f.layer === where.layer),
          )
          .map((f) => f.code),
      ),
    ].sort();
  const misdirectedTarget = (extra: string[] = []): string[] => [
    "--endpoint",
    ENDPOINT,
    "--api-id",
    MISDIRECTED_API_ID,
    ...STAGES.flatMap((stage) => ["--stage", stage]),
    ...extra,
  ];

  it("classifies a STRICT refusal answered 421 over the veths as HTTP_MISDIRECTED", async () => {
    const d = await diagnose(misdirectedTarget(["--no-compare-modes"]));
    log("strict-421 --no-compare-modes", d);
    const why = describeDiagnosis(d);
    for (const address of v4)
      expect(codes(d, { address, layer: "http" }), why).toEqual(["HTTP_MISDIRECTED"]);
    expect(d.report.verdict, why).toBe("failing");
    expect(d.exitCode).toBe(2);
    expect(d.report.targets[0]?.comparisonRequests).toBe(0);
  });

  it("compares modes on the 421, 4 requests for 2 addresses x 2 stages: HTTP_MODE_REJECTED", async () => {
    const d = await diagnose(misdirectedTarget());
    log("strict-421", d);
    const why = describeDiagnosis(d);
    for (const address of v4)
      expect(codes(d, { address, layer: "http" }), why).toEqual(["HTTP_MODE_REJECTED"]);
    const t = d.report.targets[0];
    expect(t?.comparisonRequests, why).toBe(4);
    expect(
      t?.comparisons?.map((c) => `${c.address} ${c.stage} ${c.mode} ${c.status}`).sort(),
    ).toEqual([
      `${ADDR.endpointA} prod alias 200`,
      `${ADDR.endpointA} prod host 200`,
      `${ADDR.endpointB} prod alias 200`,
      `${ADDR.endpointB} prod host 200`,
    ]);
    const e = d.findings.find((f) => f.code === "HTTP_MODE_REJECTED")?.evidence?.comparison as
      Record<string, { status?: number }> | undefined;
    expect(e?.header?.status, why).toBe(421);
  });

  it("warns DNS_ZONE_FORWARDED when dnsmasq answers the whole execute-api zone with the endpoint", async () => {
    try {
      await resolveWith({ endpoint: v4, zoneForward: v4 });
      const d = await diagnose();
      log("zone-forward", d);
      const why = describeDiagnosis(d);
      const f = d.findings.find((x) => x.code === "DNS_ZONE_FORWARDED");
      expect(f, why).toBeDefined();
      expect(f?.status).toBe("warn");
      expect(String(f?.evidence?.name)).toMatch(
        /^[a-z0-9]{10}\.execute-api\.us-east-1\.amazonaws\.com$/,
      );
      expect((f?.evidence?.endpointAddresses as string[]).sort()).toEqual(v4);
      expect(d.report.verdict, why).toBe("healthy");
      expect(d.exitCode).toBe(0);
    } finally {
      await resolveWith({ endpoint: v4 });
    }
    // The same resolver forwarding only the endpoint's name: nothing to warn about.
    const control = await diagnose();
    expect(codes(control, { layer: "dns" }), describeDiagnosis(control)).not.toContain(
      "DNS_ZONE_FORWARDED",
    );
  });

  it("probes an endpoint whose DNS publishes AAAA records only, global unicast, and finds it healthy", async () => {
    try {
      await resolveWith({ endpoint: v6 });
      const d = await diagnose();
      log("aaaa-only", d);
      const why = describeDiagnosis(d);
      const dnsOk = d.findings.find((f) => f.code === "DNS_OK");
      expect(dnsOk?.evidence?.rules, why).toEqual({
        [ADDR.endpointA6]: "dualstack",
        [ADDR.endpointB6]: "dualstack",
      });
      for (const address of v6) {
        expect(codes(d, { address }), why).toEqual(["HTTP_OK", "PATH_OK", "TCP_OK", "TLS_OK"]);
      }
      expect(d.report.targets[0]?.addresses?.sort(), why).toEqual(v6);
      expect(d.report.verdict, why).toBe("healthy");
    } finally {
      await resolveWith({ endpoint: v4 });
    }
  });

  it("warns TLS_12_REFUSED when the endpoint accepts TLS 1.3 only (server minVersion TLSv1.3)", async () => {
    try {
      await serve(["--tls-min-version", "TLSv1.3"]);
      const d = await diagnose();
      log("tls13-only", d);
      const why = describeDiagnosis(d);
      const refused = d.findings.filter((f) => f.code === "TLS_12_REFUSED");
      expect(refused, why).toHaveLength(1);
      expect(refused[0]?.status).toBe("warn");
      expect(refused[0]?.evidence?.protocols).toEqual({
        "TLSv1.3": "accepted",
        "TLSv1.2": "refused",
      });
      expect(d.report.verdict, why).toBe("healthy");
    } finally {
      await serve();
    }
    const control = await diagnose();
    expect(codes(control), describeDiagnosis(control)).not.toContain("TLS_12_REFUSED");
  });
});
