import type os from "node:os";
import { describe, expect, it } from "vitest";
import { ipv6Connectivity, usableRoutes } from "../../src/probes/ipv6-connectivity.js";

const iface = (address: string, internal = false): os.NetworkInterfaceInfo => ({
  address,
  netmask: "ffff:ffff:ffff:ffff::",
  family: "IPv6",
  mac: "00:00:00:00:00:00",
  internal,
  cidr: `${address}/64`,
  scopeid: 0,
});

// Lines as Linux prints them in /proc/net/ipv6_route.
const PREFIX_ROUTE =
  "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0";
const DEFAULT_VIA =
  "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0";
const LINK_LOCAL =
  "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0";
const LOCAL_OWN =
  "fd000000000000000000000000000002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001     eth0";
const LOOPBACK =
  "00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001       lo";
const REJECT_DEFAULT =
  "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo";
const MULTICAST =
  "ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0";

describe("IPv6 connectivity, as AI_ADDRCONFIG decides it", () => {
  it("reads routes off the host and ignores link-local, multicast, local, loopback and reject ones", () => {
    const table = [
      PREFIX_ROUTE,
      DEFAULT_VIA,
      LINK_LOCAL,
      LOCAL_OWN,
      LOOPBACK,
      REJECT_DEFAULT,
      MULTICAST,
    ].join("\n");
    expect(usableRoutes(table)).toEqual(["fd00::/64 dev eth0", "::/0 dev eth0"]);
  });

  it("has connectivity with a ULA or global address and a route", () => {
    const host = {
      interfaces: { eth0: [iface("fd00::2")] },
      routes: PREFIX_ROUTE,
      platform: "linux" as const,
    };
    expect(ipv6Connectivity(host)).toEqual({
      ok: true,
      reason: "IPv6 address fd00::2, route fd00::/64 dev eth0",
    });
  });

  it("has none with only loopback and link-local addresses", () => {
    const host = {
      interfaces: { lo: [iface("::1", true)], eth0: [iface("fe80::1")] },
      routes: [LINK_LOCAL, LOOPBACK].join("\n"),
      platform: "linux" as const,
    };
    expect(ipv6Connectivity(host)).toEqual({
      ok: false,
      reason: "this host has no global or ULA IPv6 address",
    });
  });

  it("has none with an address but no route off the host", () => {
    const host = {
      interfaces: { eth0: [iface("2001:db8::10")] },
      routes: [LOCAL_OWN, REJECT_DEFAULT].join("\n"),
      platform: "linux" as const,
    };
    expect(ipv6Connectivity(host).ok).toBe(false);
    expect(ipv6Connectivity(host).reason).toMatch(/no IPv6 route/);
  });

  it("has none when the kernel has IPv6 disabled (no route table)", () => {
    const host = { interfaces: { eth0: [iface("2600:1f18::10")] }, platform: "linux" as const };
    expect(ipv6Connectivity(host).ok).toBe(false);
  });

  it("decides on the address alone where there is no route table to read, and says so", () => {
    const host = { interfaces: { en0: [iface("2600:1f18::10")] }, platform: "darwin" as const };
    expect(ipv6Connectivity(host)).toEqual({
      ok: true,
      reason: "IPv6 address 2600:1f18::10 (routes not checked on darwin)",
    });
  });
});
