// CIDR containment for both families, with ipaddr.js (already the project's address parser).
import ipaddr from "ipaddr.js";

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

function parse(address: string): Addr | null {
  try {
    const a = ipaddr.parse(address);
    return a.kind() === "ipv6" && (a as ipaddr.IPv6).isIPv4MappedAddress()
      ? (a as ipaddr.IPv6).toIPv4Address()
      : a;
  } catch {
    return null;
  }
}

/** True when `cidr` holds `address`; a malformed CIDR or another family holds nothing. */
export function cidrContains(cidr: string, address: string): boolean {
  const a = parse(address);
  if (!a) return false;
  try {
    const [net, bits] = ipaddr.parseCIDR(cidr);
    return net.kind() === a.kind() && a.match([net, bits] as [Addr, number]);
  } catch {
    return false;
  }
}

/** The prefix length of a CIDR, -1 when it does not parse. */
export function prefixLength(cidr: string): number {
  try {
    return ipaddr.parseCIDR(cidr)[1];
  } catch {
    return -1;
  }
}
