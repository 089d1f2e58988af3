// What the tool takes from the platform, and what it does where the platform has less: the
// resolvers come from Node (dns.getServers: /etc/resolv.conf, or Windows' adapter settings),
// and /proc is read only where it exists, with a reason where it does not.
import { getServers } from "node:dns";
import type os from "node:os";
import { describe, expect, it } from "vitest";
import { systemResolvers } from "../../src/config/prepare.js";
import { ipv6Connectivity } from "../../src/probes/ipv6-connectivity.js";
import { UsageError } from "../../src/types.js";

const v6 = (address: string): os.NetworkInterfaceInfo => ({
  address,
  netmask: "ffff:ffff:ffff:ffff::",
  family: "IPv6",
  mac: "00:00:00:00:00:00",
  internal: false,
  cidr: `${address}/64`,
  scopeid: 0,
});

describe("platform fallbacks", () => {
  it("takes the system's resolvers from dns.getServers(), in the forms it gives them", () => {
    // The forms Node returns on Linux, macOS and Windows: bare, bracketed with a port, scoped.
    expect(systemResolvers(["10.0.0.2", "[fd00::53]:5353", "10.0.0.3:5300", "fe80::1%12"])).toEqual(
      [
        { host: "10.0.0.2", port: 53 },
        { host: "fd00::53", port: 5353 },
        { host: "10.0.0.3", port: 5300 },
        { host: "fe80::1%12", port: 53 },
      ],
    );
    // What this machine's Node reports parses too (no file of ours is read).
    expect(systemResolvers()).toHaveLength(getServers().length);
  });

  it("asks for --resolver, in one line, where the system names no resolver", () => {
    expect(() => systemResolvers([])).toThrow(UsageError);
    expect(() => systemResolvers([])).toThrow("no system nameserver found: give --resolver");
  });

  it("decides IPv6 connectivity from the address alone where there is no /proc (macOS, Windows)", () => {
    for (const platform of ["darwin", "win32"] as const)
      expect(ipv6Connectivity({ interfaces: { en0: [v6("2600:1f18::10")] }, platform })).toEqual({
        ok: true,
        reason: `IPv6 address 2600:1f18::10 (routes not checked on ${platform})`,
      });
  });

  it("says IPv6 is off, not that it failed, on a Linux without /proc/net/ipv6_route", () => {
    const host = { interfaces: { eth0: [v6("2600:1f18::10")] }, platform: "linux" as const };
    expect(ipv6Connectivity(host)).toEqual({
      ok: false,
      reason: "IPv6 is disabled in this host's kernel (no /proc/net/ipv6_route)",
    });
  });
});
