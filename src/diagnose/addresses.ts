import ipaddr from "ipaddr.js";
import { boundedCache } from "../bounded-cache.js";
import { RFC1918_RANGES, ULA_RANGE, type AddressRange } from "../config/ranges.js";

export type { AddressRange };

// Global unicast (RFC 4291 2.5.4): where a VPC's IPv6 addresses come from (Amazon's 2600:1f00::/24
// pool, or a BYOIP prefix). A dualstack or IPv6-only interface endpoint answers AAAA with these.
const GLOBAL_UNICAST = ipaddr.parseCIDR("2000::/3");
// The well-known NAT64 prefix (RFC 6052): a DNS64 resolver synthesizes these from A records, so
// the address is the IPv4 one it embeds in its last 32 bits.
const NAT64 = ipaddr.parseCIDR("64:ff9b::/96");

/**
 * Why an address counts as the endpoint's (evidence in the DNS finding):
 * - `rfc1918`: a private IPv4 address;
 * - `ula`: an IPv6 unique local address (fc00::/7);
 * - `privateCidrs`: inside a range the configuration adds (either family);
 * - `dualstack`: IPv6 global unicast that is among the AAAA answers of the endpoint's own
 *   `vpce-...` name: the VPC's IPv6 addresses are global unicast, so a dualstack (or IPv6-only)
 *   endpoint's AAAA answers look public. Private A answers beside it prove nothing: split DNS
 *   may answer A privately and AAAA from the public zone;
 * - `nat64`: in 64:ff9b::/96, and the IPv4 address it embeds is private by the rules above.
 */
export type AddressRule = "rfc1918" | "ula" | "privateCidrs" | "dualstack" | "nat64";

export interface AddressVerdict {
  address: string;
  rule: AddressRule | null;
  /** `nat64`: the IPv4 address embedded, which was judged. */
  embedded?: string;
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

/** The IPv4 address a NAT64 address embeds, or null when it is not one. */
function embeddedIpv4(addr: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | null {
  if (addr.kind() !== "ipv6" || !addr.match(NAT64)) return null;
  const bytes = (addr as ipaddr.IPv6).toByteArray().slice(12);
  return new ipaddr.IPv4(bytes);
}

/** The same address however it was written (`2001:db8::1` and `2001:DB8:0::1`). */
const canonical = (address: string): string => parse(address)?.toNormalizedString() ?? address;

/**
 * The endpoint's addresses among one resolver's answers for one name. `endpointV6`: the AAAA
 * answers of the endpoint's own `vpce-...` name from the same resolver; a global unicast IPv6
 * address counts only when it is among them.
 */
export function judgeAddresses(
  addresses: string[],
  ranges: AddressRange[],
  endpointV6: string[] = [],
): AddressVerdict[] {
  const endpoint = new Set(endpointV6.map(canonical));
  return addresses.map((address) => {
    const addr = parse(address);
    if (!addr) return { address, rule: null };
    const own = ownRule(addr, ranges);
    if (own) return { address, rule: own };
    const v4 = embeddedIpv4(addr);
    if (v4) return { address, rule: ownRule(v4, ranges) ? "nat64" : null, embedded: v4.toString() };
    const global = addr.kind() === "ipv6" && addr.match(GLOBAL_UNICAST);
    return { address, rule: global && endpoint.has(canonical(address)) ? "dualstack" : null };
  });
}

/**
 * IPv6 global unicast answers that no rule of their own accepts: the ones whose fate depends on
 * the endpoint's own AAAA answers (so the endpoint name is asked for them).
 */
export function needsEndpointV6(addresses: string[], ranges: AddressRange[]): boolean {
  return addresses.some((address) => {
    const addr = parse(address);
    return (
      !!addr &&
      addr.kind() === "ipv6" &&
      addr.match(GLOBAL_UNICAST) &&
      !embeddedIpv4(addr) &&
      ownRule(addr, ranges) === null
    );
  });
}

export function isIpv6(address: string): boolean {
  return parse(address)?.kind() === "ipv6";
}
