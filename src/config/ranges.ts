// The ranges whose addresses count as private, parsed once when a target is prepared.
import ipaddr from "ipaddr.js";

// RFC 1918 for IPv4; for IPv6 the unique local range (RFC 4193) plays the same role.
const RFC1918 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
const ULA = "fc00::/7";

export type AddressRange = ReturnType<typeof ipaddr.parseCIDR>;

/** Parsed once: the ranges that name an address's rule in the DNS finding's evidence. */
export const RFC1918_RANGES: AddressRange[] = RFC1918.map((c) => ipaddr.parseCIDR(c));
export const ULA_RANGE: AddressRange = ipaddr.parseCIDR(ULA);

/**
 * The defaults first (addresses.ts relies on that order), shared by every target: the daemon
 * keeps each target's ranges: at 100 targets a heap snapshot found 0.2 MiB of ranges, four in five
 * of them these defaults parsed again per target.
 */
export function privateRanges(extra: string[]): AddressRange[] {
  return [...RFC1918_RANGES, ULA_RANGE, ...extra.map((c) => ipaddr.parseCIDR(c))];
}
