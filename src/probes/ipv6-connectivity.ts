// Whether this host has IPv6 connectivity, decided the way getaddrinfo's AI_ADDRCONFIG decides it
// for the OS's own clients: an IPv6 address that is global or unique local (not loopback, not
// link-local) on some interface. Like the OS, we also want a route that could carry it: on Linux
// the kernel's table (/proc/net/ipv6_route) must hold a route through a real interface toward
// something other than link-local or multicast. Elsewhere the address alone decides, and the
// reason says so. Read once per call: cheap (a few hundred bytes), never the network.
import { readFileSync } from "node:fs";
import os from "node:os";
import ipaddr from "ipaddr.js";

export interface Ipv6Connectivity {
  ok: boolean;
  /** Why (not): the address and route seen, or what was missing. */
  reason: string;
}

export interface HostView {
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  /** The text of /proc/net/ipv6_route, or undefined where there is none. */
  routes?: string;
  platform: NodeJS.Platform;
}

function readHost(): HostView {
  let routes: string | undefined;
  if (process.platform === "linux") {
    try {
      routes = readFileSync("/proc/net/ipv6_route", "utf8");
    } catch {
      routes = undefined; // IPv6 disabled in the kernel: the file is absent
    }
  }
  return { interfaces: os.networkInterfaces(), routes, platform: process.platform };
}

// What glibc's AI_ADDRCONFIG leaves out: loopback and link-local (plus what is no host address).
const NOT_COUNTED = new Set(["loopback", "linkLocal", "multicast", "unspecified", "ipv4Mapped"]);

const usable = (address: string): boolean => {
  const bare = address.split("%")[0] ?? "";
  if (!ipaddr.IPv6.isValid(bare)) return false;
  // Global unicast, ULA, and the rest (the documentation prefix the lab uses, 6to4...).
  return !NOT_COUNTED.has(ipaddr.IPv6.parse(bare).range());
};

/** Addresses AI_ADDRCONFIG would count: global or ULA, on an interface that is not loopback. */
export function globalAddresses(interfaces: HostView["interfaces"]): string[] {
  return Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((i) => i.family === "IPv6" && !i.internal && usable(i.address))
    .map((i) => i.address);
}

const RTF_REJECT = 0x0200;
const RTF_LOCAL = 0x80000000;

/**
 * Routes from /proc/net/ipv6_route that could carry traffic off this host: not through `lo`,
 * not reject routes, not toward link-local (fe80::/10) or multicast (ff00::/8). Each line:
 * dest destlen src srclen nexthop metric refcnt use flags device (hex, no colons).
 */
export function usableRoutes(table: string): string[] {
  const out: string[] = [];
  for (const line of table.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dest = "", len = "", flagsHex = "", device = ""] = [f[0], f[1], f[8], f[9]];
    const flags = parseInt(flagsHex, 16);
    // RTF_LOCAL: this host's own address, in the local table: it carries nothing off the host.
    if (device === "lo" || (flags & (RTF_REJECT | RTF_LOCAL)) !== 0) continue;
    if (/^fe[89ab]/i.test(dest) || /^ff/i.test(dest)) continue;
    const groups = dest.match(/.{4}/g)?.join(":") ?? "";
    out.push(`${ipaddr.IPv6.parse(groups).toString()}/${parseInt(len, 16)} dev ${device}`);
  }
  return out;
}

export function ipv6Connectivity(host: HostView = readHost()): Ipv6Connectivity {
  const addresses = globalAddresses(host.interfaces);
  if (addresses.length === 0)
    return { ok: false, reason: "this host has no global or ULA IPv6 address" };
  if (host.routes === undefined) {
    return host.platform === "linux"
      ? { ok: false, reason: "IPv6 is disabled in this host's kernel (no /proc/net/ipv6_route)" }
      : {
          ok: true,
          reason: `IPv6 address ${addresses[0]} (routes not checked on ${host.platform})`,
        };
  }
  const routes = usableRoutes(host.routes);
  if (routes.length === 0)
    return { ok: false, reason: `IPv6 address ${addresses[0]} but no IPv6 route off this host` };
  return { ok: true, reason: `IPv6 address ${addresses[0]}, route ${routes[0]}` };
}
