// The path probe: route files parsed as pure functions from fixtures in the kernel's own format
// (test/fixtures/proc: a DX interface with the VPC prefix, a default route on eth0, a tunnel
// with a /32 for one ENI), and the probe itself on loopback sockets.
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  gatewayFor,
  interfaceHolding,
  parseIpv6Route,
  parseRoute,
  probePath,
  type PathSources,
} from "../../src/probes/path.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/proc");
const ROUTE = readFileSync(path.join(FIXTURES, "route"), "utf8");
const IPV6_ROUTE = readFileSync(path.join(FIXTURES, "ipv6_route"), "utf8");
const ctx = { signal: new AbortController().signal, timeoutMs: 2000 };

describe("parseRoute (/proc/net/route)", () => {
  const routes = parseRoute(ROUTE, "LE");

  it("reads every route line, addresses in the host's byte order", () => {
    expect(routes).toHaveLength(7);
    expect(routes[0]).toMatchObject({
      iface: "eth0",
      prefixLength: 0,
      gateway: "10.0.0.1",
      metric: 100,
    });
    expect(routes[2]).toMatchObject({ iface: "dx0", prefixLength: 16, gateway: "10.250.250.1" });
    expect(routes[4]).toMatchObject({ iface: "tun0", prefixLength: 32, gateway: null });
  });

  it("reads the same bytes in network order on a big-endian host", () => {
    const be =
      "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\ndx0\t0A140000\t0AFAFA01\t0003\t0\t0\t0\tFFFF0000\n";
    expect(parseRoute(be, "BE")).toMatchObject([{ gateway: "10.250.250.1", prefixLength: 16 }]);
  });

  it("skips lines it cannot read: short lines, bad hex, masks with holes", () => {
    const bad = `Iface\tDestination\n${"eth0\tZZZZZZZZ\t00000000\t0001\t0\t0\t0\t00FFFFFF"}\n${"eth0\t00000000\t00000000\t0001\t0\t0\t0\t00FF00FF"}\nshort line\n`;
    expect(parseRoute(bad, "LE")).toEqual([]);
  });

  it("finds the gateway of the longest prefix on the egress interface", () => {
    expect(gatewayFor(routes, "10.20.1.10", "dx0")).toBe("10.250.250.1");
    // The same prefix through eth0 has its own gateway: the interface the kernel chose decides.
    expect(gatewayFor(routes, "10.20.1.10", "eth0")).toBe("10.0.0.2");
    expect(gatewayFor(routes, "10.20.2.10", "tun0")).toBeNull();
    expect(gatewayFor(routes, "192.0.2.7", "eth0")).toBe("10.0.0.1");
    expect(gatewayFor(routes, "10.0.0.77", "eth0")).toBeNull();
  });

  it("ignores reject routes", () => {
    // 198.200.0.0/24 is a reject route on eth0: the default route's gateway is the answer.
    expect(gatewayFor(routes, "198.200.0.9", "eth0")).toBe("10.0.0.1");
  });
});

describe("parseIpv6Route (/proc/net/ipv6_route)", () => {
  const routes = parseIpv6Route(IPV6_ROUTE);

  it("reads destination, prefix length, next hop, metric and flags in hex", () => {
    expect(routes).toHaveLength(7);
    expect(routes[0]).toMatchObject({
      iface: "dx0",
      family: 6,
      prefixLength: 48,
      gateway: "2001:db8:0:ff::1",
      metric: 1024,
    });
    expect(routes[3]).toMatchObject({ iface: "tun0", prefixLength: 128, gateway: null });
  });

  it("finds the gateway per interface, skipping reject routes", () => {
    expect(gatewayFor(routes, "2001:db8:20:1::10", "dx0")).toBe("2001:db8:0:ff::1");
    expect(gatewayFor(routes, "2001:db8:20:1::10", "eth0")).toBe("fe80::1");
    expect(gatewayFor(routes, "2001:db8:20::10", "tun0")).toBeNull();
    expect(gatewayFor(routes, "2001:db8:20:1::10", "lo")).toBeNull();
  });

  it("skips lines it cannot read", () => {
    expect(parseIpv6Route("garbage\n1 2 3 4 5 6 7 8 9 10\n")).toEqual([]);
  });
});

describe("interfaceHolding", () => {
  it("names the interface holding the source, comparing normalized addresses", () => {
    const interfaces = {
      lo: [{ address: "127.0.0.1" }, { address: "::1" }],
      dx0: [{ address: "2001:db8:0:ff:0:0:0:10" }],
    } as unknown as NodeJS.Dict<os.NetworkInterfaceInfo[]>;
    expect(interfaceHolding("2001:db8:0:ff::10", interfaces)).toBe("dx0");
    expect(interfaceHolding("127.0.0.1", interfaces)).toBe("lo");
    expect(interfaceHolding("10.9.9.9", interfaces)).toBeNull();
    expect(interfaceHolding("not an address", interfaces)).toBeNull();
  });
});

describe("probePath on loopback", () => {
  it("finds the source and interface of a connected UDP socket without sending a packet", async () => {
    // A listener on the address probed: the probe must not reach it. A sentinel datagram sent
    // after the probe is the first (and only) one to arrive, in order on loopback.
    const server = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => server.bind(0, "127.0.0.1", resolve));
    const port = server.address().port;
    const received: string[] = [];
    const sentinelSeen = new Promise<void>((resolve) =>
      server.on("message", (m) => {
        received.push(m.toString());
        if (m.toString() === "sentinel") resolve();
      }),
    );
    try {
      const seen = await probePath(ctx, { address: "127.0.0.1", port });
      expect(seen).toMatchObject({ address: "127.0.0.1", family: 4, source: "127.0.0.1" });
      expect(seen.interface).toBe(loopbackName());
      if (process.platform === "linux") expect(seen.mtu).toBe(Number(readMtu("lo")));
      const sender = dgram.createSocket("udp4");
      await new Promise<void>((resolve) =>
        sender.send("sentinel", port, "127.0.0.1", () => resolve()),
      );
      await sentinelSeen;
      sender.close();
      expect(received).toEqual(["sentinel"]);
    } finally {
      server.close();
    }
  });

  it("reports IPv6 loopback too", async () => {
    const seen = await probePath(ctx, { address: "::1", port: 443 });
    expect(seen).toMatchObject({ family: 6, source: "::1", interface: loopbackName() });
  });

  it("reads the route and MTU only on Linux: elsewhere they are null", async () => {
    const reads: string[] = [];
    const sources: PathSources = {
      platform: "darwin",
      read: (file) => (reads.push(file), Promise.resolve("")),
      interfaces: () => ({ lo0: [{ address: "127.0.0.1" }] as os.NetworkInterfaceInfo[] }),
    };
    const seen = await probePath(ctx, { address: "127.0.0.1", port: 443 }, sources);
    expect(seen).toMatchObject({ source: "127.0.0.1", interface: "lo0", gateway: null, mtu: null });
    expect(reads).toEqual([]);
  });

  it("reads the fixtures' route and the interface's MTU on Linux", async () => {
    const sources: PathSources = {
      platform: "linux",
      read: (file) =>
        file === "/proc/net/route"
          ? Promise.resolve(ROUTE.replace("00000000\t0100000A\t0003", "0000007F\t0200007F\t0003"))
          : file === "/sys/class/net/dx0/mtu"
            ? Promise.resolve("8500\n")
            : Promise.reject(new Error("ENOENT")),
      interfaces: () => ({ dx0: [{ address: "127.0.0.1" }] as os.NetworkInterfaceInfo[] }),
    };
    // The fixture's eth0 default route is now 127.0.0.0/0 via 127.0.0.2: no dx0 route matches.
    const seen = await probePath(ctx, { address: "127.0.0.1", port: 443 }, sources);
    expect(seen).toMatchObject({ interface: "dx0", gateway: null, mtu: 8500 });
  });

  it("takes the route's interface when no running interface holds the source", async () => {
    // A tunnel without carrier: the kernel routes into it, os.networkInterfaces() omits it.
    const route =
      "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\ntun0\t0000007F\t00000000\t0001\t0\t0\t0\t000000FF\n";
    const sources: PathSources = {
      platform: "linux",
      read: (file) =>
        file === "/proc/net/route"
          ? Promise.resolve(route)
          : file === "/sys/class/net/tun0/mtu"
            ? Promise.resolve("1500\n")
            : Promise.reject(new Error("ENOENT")),
      interfaces: () => ({}),
    };
    const seen = await probePath(ctx, { address: "127.0.0.1", port: 443 }, sources);
    expect(seen).toMatchObject({
      source: "127.0.0.1",
      interface: "tun0",
      gateway: null,
      mtu: 1500,
    });
  });

  it("never reads a path made of an interface name", async () => {
    const reads: string[] = [];
    const sources: PathSources = {
      platform: "linux",
      read: (file) => (reads.push(file), Promise.resolve("1500")),
      interfaces: () => ({ "..": [{ address: "127.0.0.1" }] as os.NetworkInterfaceInfo[] }),
    };
    const seen = await probePath(ctx, { address: "127.0.0.1", port: 443 }, sources);
    expect(seen.mtu).toBeNull();
    expect(reads).toEqual(["/proc/net/route"]);
  });

  it("is cancelled with the run", async () => {
    const controller = new AbortController();
    controller.abort();
    const seen = await probePath(
      { signal: controller.signal, timeoutMs: 2000 },
      { address: "127.0.0.1", port: 443 },
    );
    expect(seen).toMatchObject({ cancelled: true, source: null });
  });
});

function loopbackName(): string | undefined {
  return Object.entries(os.networkInterfaces()).find(([, infos]) =>
    infos?.some((i) => i.address === "127.0.0.1"),
  )?.[0];
}

function readMtu(iface: string): string {
  return readFileSync(`/sys/class/net/${iface}/mtu`, "utf8").trim();
}
