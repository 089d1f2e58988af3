import ipaddr from "ipaddr.js";
import { boundedCache } from "../bounded-cache.js";
import { RFC1918_RANGES, ULA_RANGE, type AddressRange } from "../config/ranges.js";

export type { AddressRange };

// Global unicast (RFC 4291 2.5.4): where a VPC's IPv6 addresses come from (Amazon's 2600:1f00::/24
// pool, or a BYOIP prefix). A dualstack interface endpoint answers AAAA with these.
const GLOBAL_UNICAST = ipaddr.parseCIDR("2000::/3");

/**
 * Why an address counts as the endpoint's (evidence in the DNS finding):
 * - `rfc1918`: a private IPv4 address;
 * - `ula`: an IPv6 unique local address (fc00::/7);
 * - `privateCidrs`: inside a range the configuration adds (either family);
 * - `dualstack`: IPv6 global unicast for a name whose A answers are all private: the VPC's IPv6
 *   addresses are global unicast, so a dualstack interface endpoint's AAAA answers look public.
 */
export type AddressRule = "rfc1918" | "ula" | "privateCidrs" | "dualstack";

export interface AddressVerdict {
  address: string;
  rule: AddressRule | null;
}

type Parsed = ipaddr.IPv4 | ipaddr.IPv6 | null;

/**
 * Parsed once per address: a run parses each answer several times (family, rule, dualstack) and
 * the daemon gets the same few answers run after run; ipaddr.js allocates for every parse (at 100
 * targets a twentieth of what the daemon allocated). Callers only read what they get.
 */
const parsed = boundedCache<string, Parsed>(1024);
const parse = (address: string): Parsed => parsed(address, () => parseAddress(address));

function parseAddress(address: string): Parsed {
  if (!ipaddr.isValid(address)) return null;
  const addr = ipaddr.parse(address);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress())
    return (addr as ipaddr.IPv6).toIPv4Address();
  return addr;
}

const inRanges = (addr: ipaddr.IPv4 | ipaddr.IPv6, ranges: AddressRange[]): boolean =>
  ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));

/** The rule that makes one address private by itself (without the dualstack rule), or null. */
function ownRule(addr: ipaddr.IPv4 | ipaddr.IPv6, ranges: AddressRange[]): AddressRule | null {
  if (addr.kind() === "ipv4") {
    if (inRanges(addr, RFC1918_RANGES)) return "rfc1918";
  } else if (inRanges(addr, [ULA_RANGE])) return "ula";
  // The defaults come first in `ranges`; anything else that matches was configured.
  return inRanges(addr, ranges) ? "privateCidrs" : null;
}

/**
 * The endpoint's addresses among one resolver's answers for one name. A global unicast IPv6
 * address counts only when the same name has A answers and every one of them is private: the
 * name is a dualstack endpoint's, not a public name (which would answer public A records too).
 */
export function judgeAddresses(addresses: string[], ranges: AddressRange[]): AddressVerdict[] {
  const parsed = addresses.map((address) => ({ address, addr: parse(address) }));
  const v4 = parsed.filter((p) => p.addr?.kind() === "ipv4");
  const dualstack = v4.length > 0 && v4.every((p) => p.addr && ownRule(p.addr, ranges) !== null);
  return parsed.map(({ address, addr }) => {
    if (!addr) return { address, rule: null };
    const own = ownRule(addr, ranges);
    if (own) return { address, rule: own };
    const global = addr.kind() === "ipv6" && addr.match(GLOBAL_UNICAST);
    return { address, rule: dualstack && global ? "dualstack" : null };
  });
}

export function isIpv6(address: string): boolean {
  return parse(address)?.kind() === "ipv6";
}
