// The ranges whose addresses count as private, parsed once when a target is prepared.
import ipaddr from "ipaddr.js";

// RFC 1918 for IPv4; for IPv6 the unique local range (RFC 4193) plays the same role.
const RFC1918 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
const ULA = "fc00::/7";
const DEFAULT_PRIVATE = [...RFC1918, ULA];

export type AddressRange = ReturnType<typeof ipaddr.parseCIDR>;

/** Parsed once: the ranges that name an address's rule in the DNS finding's evidence. */
export const RFC1918_RANGES: AddressRange[] = RFC1918.map((c) => ipaddr.parseCIDR(c));
export const ULA_RANGE: AddressRange = ipaddr.parseCIDR(ULA);

export function privateRanges(extra: string[]): AddressRange[] {
  return [...DEFAULT_PRIVATE, ...extra].map((c) => ipaddr.parseCIDR(c));
}
