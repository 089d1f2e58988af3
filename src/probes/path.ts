// What this host's kernel does with one endpoint address before any packet leaves: the source
// address it picks (a connected UDP socket's local address: connect() on UDP only chooses a
// route and a source, it sends nothing), the interface holding that source, and on Linux the
// gateway of the route toward the address and that interface's MTU. Off Linux, or where /proc
// and /sys cannot be read, those two are null.
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import ipaddr from "ipaddr.js";
import { bounded, elapsed, now, type ProbeContext } from "./context.js";

export interface PathInput {
  address: string;
  /** The port the connection will use: a route may depend on it (policy routing). */
  port: number;
}

export interface PathObservation {
  address: string;
  family: 4 | 6;
  source: string | null;
  interface: string | null;
  gateway: string | null;
  mtu: number | null;
  /** Why the kernel chose no source (ENETUNREACH: no route). */
  errno?: string;
  timedOut?: boolean;
  cancelled?: boolean;
  durationMs: number;
}

/** Where the Linux facts are read; tests point it at fixtures. */
export interface PathSources {
  platform: NodeJS.Platform;
  read: (file: string) => Promise<string>;
  interfaces: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

const SYSTEM: PathSources = {
  platform: process.platform,
  // Kernel pseudo-files, answered from memory in microseconds: read at once rather than through
  // libuv's thread pool, where they queued behind the run's other work for up to 200 ms.
  read: async (file) => readFileSync(file, "utf8"),
  interfaces: () => os.networkInterfaces(),
};

export async function probePath(
  ctx: ProbeContext,
  input: PathInput,
  sources: PathSources = SYSTEM,
): Promise<PathObservation> {
  const started = now();
  const family = net.isIPv6(input.address) ? 6 : 4;
  const empty = { address: input.address, family, source: null, interface: null } as const;
  const facts = await bounded<Omit<PathObservation, "durationMs">>(
    ctx,
    (reason) => ({
      ...empty,
      gateway: null,
      mtu: null,
      ...(reason === "timeout" ? { timedOut: true } : { cancelled: true }),
    }),
    (settle) => {
      const socket = dgram.createSocket(family === 6 ? "udp6" : "udp4");
      socket.on("error", (err: NodeJS.ErrnoException) =>
        settle({ ...empty, gateway: null, mtu: null, errno: err.code ?? err.message }),
      );
      socket.connect(input.port, input.address, (err?: Error) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code ?? err.message;
          return settle({ ...empty, gateway: null, mtu: null, errno: code });
        }
        const source = socket.address().address;
        void linuxFacts(input.address, family, source, sources).then(settle, () =>
          settle({ ...empty, source, gateway: null, mtu: null }),
        );
      });
      return () => socket.close();
    },
  );
  return { ...facts, durationMs: elapsed(started) };
}

async function linuxFacts(
  address: string,
  family: 4 | 6,
  source: string,
  sources: PathSources,
): Promise<Omit<PathObservation, "durationMs">> {
  const holding = interfaceHolding(source, sources.interfaces());
  const base = { address, family, source };
  if (sources.platform !== "linux")
    return { ...base, interface: holding, gateway: null, mtu: null };
  const routes = await sources
    .read(family === 6 ? "/proc/net/ipv6_route" : "/proc/net/route")
    .then((text) => (family === 6 ? parseIpv6Route(text) : parseRoute(text)))
    .catch((): Route[] => []);
  // os.networkInterfaces() lists running interfaces only (libuv), while the kernel still routes
  // into one without carrier (a tunnel whose peer is gone): then the route's own interface.
  const iface = holding ?? bestRoute(routes, address)?.iface ?? null;
  if (!iface) return { ...base, interface: null, gateway: null, mtu: null };
  return {
    ...base,
    interface: iface,
    gateway: gatewayFor(routes, address, iface),
    mtu: await readMtu(iface, sources),
  };
}

/** The interface whose addresses include `source` (compared normalized: `::1` is `0:0:...:1`). */
export function interfaceHolding(
  source: string,
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>,
): string | null {
  const wanted = normalize(source);
  if (wanted === undefined) return null;
  for (const [name, infos] of Object.entries(interfaces))
    if (infos?.some((i) => normalize(i.address) === wanted)) return name;
  return null;
}

function normalize(address: string): string | undefined {
  const bare = address.replace(/%.*$/, "");
  return ipaddr.isValid(bare) ? ipaddr.parse(bare).toNormalizedString() : undefined;
}

/** Linux interface names: up to 15 characters, never a path. */
const IFNAME = /^(?!\.\.?$)[A-Za-z0-9_.:@-]{1,15}$/;

async function readMtu(iface: string, sources: PathSources): Promise<number | null> {
  if (!IFNAME.test(iface)) return null;
  try {
    const mtu = Number((await sources.read(`/sys/class/net/${iface}/mtu`)).trim());
    return Number.isInteger(mtu) && mtu > 0 ? mtu : null;
  } catch {
    return null;
  }
}

/** One route of the main table, as /proc/net/route or /proc/net/ipv6_route lists it. */
export interface Route {
  iface: string;
  family: 4 | 6;
  /** Destination and prefix length. */
  destination: bigint;
  prefixLength: number;
  /** null: on-link (no gateway). */
  gateway: string | null;
  metric: number;
  flags: number;
}

const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

/**
 * /proc/net/route: a header line, then `Iface Destination Gateway Flags RefCnt Use Metric Mask
 * MTU Window IRTT`, addresses as 8 hex digits in the host's byte order.
 */
export function parseRoute(text: string, endianness: "LE" | "BE" = os.endianness()): Route[] {
  const routes: Route[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface = "", dst = "", gw = "", flags = "", , , metric = "", mask = ""] = f;
    const d = hex32(dst, endianness);
    const g = hex32(gw, endianness);
    const m = hex32(mask, endianness);
    if (d === undefined || g === undefined || m === undefined) continue;
    const prefixLength = maskLength(m);
    if (prefixLength === undefined) continue;
    routes.push({
      iface,
      family: 4,
      destination: BigInt(d),
      prefixLength,
      gateway: g === 0 ? null : v4(g),
      metric: Number.parseInt(metric, 10) || 0,
      flags: Number.parseInt(flags, 16) || 0,
    });
  }
  return routes;
}

/**
 * /proc/net/ipv6_route: no header; `dest destlen src srclen nexthop metric refcnt use flags
 * iface`, addresses as 32 hex digits in network order, lengths, metric and flags in hex.
 */
export function parseIpv6Route(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dst = "", len = "", , , hop = "", metric = "", , , flags = "", iface = ""] = f;
    if (!/^[0-9a-f]{32}$/i.test(dst) || !/^[0-9a-f]{32}$/i.test(hop)) continue;
    const prefixLength = Number.parseInt(len, 16);
    if (!(prefixLength >= 0 && prefixLength <= 128)) continue;
    const gateway = BigInt(`0x${hop}`);
    routes.push({
      iface,
      family: 6,
      destination: BigInt(`0x${dst}`),
      prefixLength,
      gateway: gateway === 0n ? null : v6(hop),
      metric: Number.parseInt(metric, 16) || 0,
      flags: Number.parseInt(flags, 16) || 0,
    });
  }
  return routes;
}

/**
 * The gateway of the route the kernel would take toward `address` out of `iface`: the longest
 * matching prefix on that interface, then the lowest metric (the main table only: policy
 * routing rules are not read). null when the route is on-link or none matches.
 */
export function gatewayFor(routes: Route[], address: string, iface: string): string | null {
  return bestRoute(routes, address, iface)?.gateway ?? null;
}

/** The usable route of the longest prefix holding `address` (on `iface` when given). */
export function bestRoute(routes: Route[], address: string, iface?: string): Route | undefined {
  if (!ipaddr.isValid(address)) return undefined;
  const parsed = ipaddr.parse(address);
  const family = parsed.kind() === "ipv6" ? 6 : 4;
  const bits = family === 6 ? 128 : 32;
  const value = parsed.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
  return routes
    .filter(
      (r) =>
        r.family === family &&
        (iface === undefined || r.iface === iface) &&
        (r.flags & RTF_UP) !== 0 &&
        (r.flags & RTF_REJECT) === 0 &&
        prefixOf(value, r.prefixLength, bits) === prefixOf(r.destination, r.prefixLength, bits),
    )
    .sort((a, b) => b.prefixLength - a.prefixLength || a.metric - b.metric)[0];
}

function prefixOf(value: bigint, length: number, bits: number): bigint {
  return length === 0 ? 0n : value >> BigInt(bits - length);
}

/** 8 hex digits as an unsigned 32-bit address in network order. */
function hex32(text: string, endianness: "LE" | "BE"): number | undefined {
  if (!/^[0-9a-f]{8}$/i.test(text)) return undefined;
  const buf = Buffer.from(text, "hex");
  return endianness === "LE" ? buf.readUInt32LE(0) : buf.readUInt32BE(0);
}

/** The length of a contiguous netmask, or undefined for a mask with holes. */
function maskLength(mask: number): number | undefined {
  const bits = mask.toString(2).padStart(32, "0");
  const length = bits.includes("0") ? bits.indexOf("0") : 32;
  return bits.slice(length).includes("1") ? undefined : length;
}

function v4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function v6(hex: string): string {
  return ipaddr.fromByteArray([...Buffer.from(hex, "hex")]).toString();
}
