// The path layer against real routes (issue 25): on the on-prem host, a VPN tunnel with a more
// specific route for one ENI, an internet-facing interface holding an IPv6 route for one IPv6
// ENI (both `tun` devices with no process attached: they drop what they are sent), zonal records
// in the lab's DNS, and a proxy variable set. expectPath names the Direct Connect side (eth0,
// 10.0.0.0/24, 2001:db8:0:a::/64): only the two addresses that bypass it are PATH_UNEXPECTED.
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADDR,
  API_ID,
  ENDPOINT,
  Lab,
  REPO_ROOT,
  STAGES,
  checkSupport,
  describeDiagnosis,
  startEndpoint,
  startResolver,
  stopProcess,
  type Diagnosis,
  type Started,
} from "./lab.js";

const TIMEOUT = "2s";
const VPN = { name: "vpn0", address: "10.99.0.2", peer: "10.99.0.1" };
const WAN6 = { name: "wan6", address: "2001:db8:ffff::2", gateway: "2001:db8:ffff::1" };
const zonal = (az: string) =>
  ENDPOINT.replace(".execute-api.", `-${az}.execute-api.`) as `vpce-${string}`;
const EXPECT_DX = [
  "--expect-interface",
  "eth0",
  "--expect-source",
  "10.0.0.0/24",
  "--expect-source",
  "2001:db8:0:a::/64",
];

interface AddressInfo {
  address: string;
  family: number;
  az: string | null;
  source: string | null;
  interface: string | null;
  gateway: string | null;
  mtu: number | null;
}

const support = checkSupport();

describe.skipIf(!support.ok)("network lab: where each address's packets go", () => {
  const lab = new Lab();
  let simulator: Started | undefined;
  let resolver: Started | undefined;
  let ca = "";
  const downOnExit = (): void => lab.down();
  const ipOnprem = (...args: string[]) =>
    execFileSync("ip", ["-n", lab.ns("onprem"), ...args], { stdio: "ignore" });
  const inOnprem = (...args: string[]) =>
    execFileSync("ip", ["netns", "exec", lab.ns("onprem"), ...args], { encoding: "utf8" });

  beforeAll(async () => {
    process.once("exit", downOnExit);
    lab.up();
    // Zonal names: AZ a holds ENI A (IPv4 and IPv6), AZ b holds ENI B; c..f do not exist.
    writeFileSync(
      lab.zoneFile,
      JSON.stringify({
        [ENDPOINT]: {
          A: [ADDR.endpointA, ADDR.endpointB],
          AAAA: [ADDR.endpointA6, ADDR.endpointB6],
        },
        [zonal("us-east-1a")]: { A: [ADDR.endpointA], AAAA: [ADDR.endpointA6] },
        [zonal("us-east-1b")]: { A: [ADDR.endpointB], AAAA: [ADDR.endpointB6] },
      }),
    );
    // A VPN tunnel with a more specific route for ENI B (a /32 beats the /16 over DX).
    ipOnprem("tuntap", "add", "mode", "tun", "name", VPN.name);
    ipOnprem("addr", "add", `${VPN.address}/30`, "dev", VPN.name);
    ipOnprem("link", "set", VPN.name, "up");
    ipOnprem("route", "add", `${ADDR.endpointB}/32`, "via", VPN.peer, "dev", VPN.name);
    // An internet-facing interface whose IPv6 route takes ENI B's IPv6 address.
    ipOnprem("tuntap", "add", "mode", "tun", "name", WAN6.name);
    ipOnprem("-6", "addr", "add", `${WAN6.address}/64`, "dev", WAN6.name, "nodad");
    ipOnprem("link", "set", WAN6.name, "up");
    ipOnprem("-6", "route", "add", `${ADDR.endpointB6}/128`, "via", WAN6.gateway, "dev", WAN6.name);
    // Witnesses: every UDP datagram the on-prem host sends toward the endpoint's port.
    inOnprem("iptables", "-I", "OUTPUT", "-p", "udp", "-d", "10.20.0.0/16", "--dport", "443");
    inOnprem("ip6tables", "-I", "OUTPUT", "-p", "udp", "-d", "2001:db8:20::/48", "--dport", "443");
    resolver = await startResolver(lab);
    simulator = await startEndpoint(lab, [
      "--address",
      ADDR.endpointA6,
      "--address",
      ADDR.endpointB6,
    ]);
    ca = String(simulator.ready.caFile);
  }, 120_000);

  afterAll(async () => {
    for (const started of [simulator, resolver]) if (started) await stopProcess(started.child);
    lab.down();
    process.removeListener("exit", downOnExit);
  });

  const udpSent = (): number => {
    const count = (tool: string) =>
      inOnprem(tool, "-L", "OUTPUT", "-v", "-n", "-x")
        .split("\n")
        .filter((l) => /\budp\b/.test(l) && /dpt:443/.test(l))
        .reduce((n, l) => n + Number(l.trim().split(/\s+/)[0]), 0);
    return count("iptables") + count("ip6tables");
  };

  const withProxy = async <T>(run: () => Promise<T>): Promise<T> => {
    const saved = process.env.HTTPS_PROXY;
    process.env.HTTPS_PROXY = "http://ops:hunter2@proxy.corp.example:3128";
    try {
      return await run();
    } finally {
      if (saved === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = saved;
    }
  };

  let diagnosis: Diagnosis;
  let sentBefore = 0;

  it("gives every address its AZ, source, interface, gateway and MTU, without sending a packet", async () => {
    sentBefore = udpSent();
    diagnosis = await withProxy(() =>
      lab.diagnose({ caFile: ca, timeout: TIMEOUT, extra: EXPECT_DX }),
    );
    const info = (diagnosis.report.targets[0] as unknown as { addressInfo: AddressInfo[] })
      .addressInfo;
    const at = (address: string) => info.find((i) => i.address === address);
    expect(at(ADDR.endpointA), describeDiagnosis(diagnosis)).toEqual({
      address: ADDR.endpointA,
      family: 4,
      az: "us-east-1a",
      source: ADDR.onprem,
      interface: "eth0",
      gateway: ADDR.router,
      mtu: 9000,
    });
    expect(at(ADDR.endpointB)).toEqual({
      address: ADDR.endpointB,
      family: 4,
      az: "us-east-1b",
      source: VPN.address,
      interface: VPN.name,
      gateway: VPN.peer,
      mtu: 1500,
    });
    expect(at(ADDR.endpointA6)).toMatchObject({
      az: "us-east-1a",
      source: "2001:db8:0:a::10",
      interface: "eth0",
      gateway: "2001:db8:0:a::1",
    });
    expect(at(ADDR.endpointB6)).toMatchObject({
      az: "us-east-1b",
      source: WAN6.address,
      interface: WAN6.name,
      gateway: WAN6.gateway,
    });
    // The source came from connect() on UDP sockets: not one datagram left toward port 443.
    expect(udpSent() - sentBefore).toBe(0);
  });

  it("the firewall counter that saw nothing does count a datagram that is sent", () => {
    const before = udpSent();
    inOnprem(
      process.execPath,
      "-e",
      `const s=require("node:dgram").createSocket("udp4");s.send("x",443,${JSON.stringify(ADDR.endpointA)},()=>s.close())`,
    );
    expect(udpSent() - before).toBe(1);
  });

  it("expectPath fails the two addresses whose route bypasses Direct Connect, and only them", () => {
    const paths = diagnosis.findings.filter((f) => f.layer === "path" && f.address);
    const unexpected = paths.filter((f) => f.code === "PATH_UNEXPECTED").map((f) => f.address);
    expect(unexpected.sort(), describeDiagnosis(diagnosis)).toEqual(
      [ADDR.endpointB, ADDR.endpointB6].sort(),
    );
    expect(paths.filter((f) => f.code === "PATH_OK").map((f) => f.address)).toEqual(
      expect.arrayContaining([ADDR.endpointA, ADDR.endpointA6]),
    );
    // Upper layers are still tried: the tunnel drops the SYN, DX carries the others.
    const tcpB = diagnosis.findings.find((f) => f.layer === "tcp" && f.address === ADDR.endpointB);
    expect(tcpB?.code).toBe("TCP_TIMEOUT");
    expect(String(tcpB?.hint)).toContain(`from ${VPN.address} (interface ${VPN.name})`);
    expect(
      diagnosis.findings.filter((f) => f.code === "HTTP_OK" && f.address === ADDR.endpointA),
    ).toHaveLength(STAGES.length);
    const target = diagnosis.report.targets[0] as unknown as {
      verdict: string;
      primaryCause: { code: string; addresses: string[] };
    };
    expect(target.verdict).toBe("degraded");
    expect(target.primaryCause.code).toBe("PATH_UNEXPECTED");
  });

  it("warns that HTTPS_PROXY would take this API elsewhere, without the proxy's password", () => {
    const proxy = diagnosis.findings.find((f) => f.code === "PATH_PROXY_ENV");
    expect(proxy?.status).toBe("warn");
    expect(JSON.stringify(diagnosis.report)).not.toContain("hunter2");
  });

  it("prints each address's AZ, source, interface and gateway in the text report", () => {
    const run = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        lab.ns("onprem"),
        process.execPath,
        path.join(REPO_ROOT, "dist", "cli.js"),
        "diagnose",
        "--endpoint",
        ENDPOINT,
        "--api-id",
        API_ID,
        "--stage",
        "prod",
        "--ca-file",
        ca,
        "--timeout",
        TIMEOUT,
        "--format",
        "text",
        ...EXPECT_DX,
      ],
      { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 },
    );
    expect(run.status, run.stderr).toBe(1);
    const text = run.stdout;
    expect(text).toContain(
      `${ADDR.endpointA}: from ${ADDR.onprem} dev eth0 via ${ADDR.router} mtu 9000 az us-east-1a`,
    );
    expect(text).toContain(
      `${ADDR.endpointB}: from ${VPN.address} dev ${VPN.name} via ${VPN.peer} mtu 1500 az us-east-1b`,
    );
    expect(text).toMatch(
      new RegExp(
        `${ADDR.endpointB.replace(/\./g, "\\.")}\\s+us-east-1b\\s+10\\.99\\.0\\.2\\s+vpn0`,
      ),
    );
  });
});
