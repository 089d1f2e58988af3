// Hints of the path layer (issue 25), kept apart from hints.ts so that the base texts and these
// grow separately; `pathFactHint` makes TCP_TIMEOUT and TLS_TIMEOUT concrete with what this
// host's kernel does with the address (source, interface, MTU).
import type { AddressInfo, FindingCode } from "../types.js";

export const PATH_HINTS = {
  PATH_OK: "",
  PATH_UNEXPECTED:
    "This host sends the endpoint's traffic from a source address or through an interface that expectPath does not list, so it does not take Direct Connect: the route toward the VPC prefix is missing, or a more specific or preferred one wins (a default route, a VPN tunnel, an IPv6 default route to the internet). Check the prefixes advertised over Direct Connect (BGP) and this host's routing table (ip route get <address>).",
  PATH_PROXY_ENV:
    "A proxy variable (HTTPS_PROXY, https_proxy or ALL_PROXY) is set and NO_PROXY does not cover this name: applications on this host that honour the proxy variables send this API's traffic to the proxy, not over Direct Connect (this tool connects directly). Add the name, or .vpce.amazonaws.com and .execute-api.<region>.amazonaws.com, to NO_PROXY.",
} as const satisfies Partial<Record<FindingCode, string>>;

/**
 * The sentence a path fact adds to a code's hint, or "" when the fact is unknown: the source the
 * security group must allow (a dropped SYN), the MTU a black hole is measured against (a stalled
 * handshake).
 */
export function pathFactHint(code: FindingCode, info: AddressInfo | undefined): string {
  if (!info) return "";
  const via = info.interface ? ` (interface ${info.interface})` : "";
  if (code === "TCP_TIMEOUT" && info.source) {
    const range = info.family === 6 ? `${info.source}/128` : `${info.source}/32`;
    return `This host connects to ${info.address} from ${info.source}${via}: the endpoint's security group must allow inbound TCP/443 from ${range} or the on-prem range that holds it.`;
  }
  if (code === "TLS_TIMEOUT" && info.mtu !== null && info.interface) {
    const header = info.family === 6 ? 60 : 40;
    return `The egress interface ${info.interface} has MTU ${info.mtu}: a hop toward ${info.address} with a smaller MTU (1500 on a virtual interface, less through a tunnel) drops full-size segments unless TCP MSS is clamped below ${info.mtu - header}.`;
  }
  return "";
}
