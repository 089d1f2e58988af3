import ipaddr from "ipaddr.js";

// RFC 1918 for IPv4; for IPv6 the unique local range (RFC 4193) plays the same role.
const DEFAULT_PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];

export type AddressRange = ReturnType<typeof ipaddr.parseCIDR>;

export function privateRanges(extra: string[]): AddressRange[] {
  return [...DEFAULT_PRIVATE, ...extra].map((c) => ipaddr.parseCIDR(c));
}

export function isPrivate(address: string, ranges: AddressRange[]): boolean {
  if (!ipaddr.isValid(address)) return false;
  let addr = ipaddr.parse(address);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress())
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
}
