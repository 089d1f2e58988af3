// Hints for today's private APIs (issue: STRICT access mode, private custom domain names,
// dualstack endpoints), kept apart from hints.ts so the two vocabularies can grow separately.
// AWS documents what STRICT requires (SNI host matching; only private DNS names and custom domain
// names for private APIs) and that a domain needs a domain name access association; it does not
// document what the refusal looks like on the wire, which is why the tool compares access modes
// itself instead of reading the refusal's text.
import type { FindingCode } from "../types.js";

export const ACCESS_HINTS = {
  DNS_DOMAIN_ELSEWHERE:
    "The custom domain name resolves to addresses that are not this VPC endpoint's: the Route 53 private hosted zone's alias record points at another endpoint, or the on-prem resolver does not forward that zone to a Route 53 Resolver inbound endpoint (and answers from elsewhere).",
  HTTP_MODE_REJECTED:
    "Header mode (endpoint name plus x-apigw-api-id) is refused while host or alias mode answers through the same address: the API most likely uses an enhanced security policy (SecurityPolicy_TLS13_*) in STRICT endpoint access mode, which accepts only private DNS names and custom domain names with SNI equal to Host; or a proxy is rewriting Host. Call the API with its private DNS name ({apiId}.execute-api.{region}.amazonaws.com) or the custom domain name, or set the API's endpoint access mode to BASIC and redeploy it (AWS says a change of access mode takes about 15 minutes to propagate).",
  HTTP_DOMAIN_FORBIDDEN:
    "The custom domain name answers Forbidden while the API answers through the same address: there is no domain name access association between this domain name and this VPC endpoint (a new one takes about 15 minutes to be ready), no base path mapping for this base path, or the domain name's resource policy (its `policy`) does not allow this VPC endpoint.",
  DNS_ZONE_FORWARDED:
    "The name of an API that cannot exist resolves to this endpoint: on-prem DNS sends the whole execute-api.<region>.amazonaws.com zone to the VPC, whose endpoint has private DNS on, so every public API of that region called from this host reaches the endpoint and gets 403. Forward only the private APIs' names ({apiId}.execute-api.<region>.amazonaws.com), or call public APIs through a custom domain name.",
  TLS_12_REFUSED:
    "TLS 1.3 works but a handshake limited to TLS 1.2 is refused: the API (or its custom domain) uses a TLS 1.3-only security policy (SecurityPolicy_TLS13_1_3_*). Clients that cannot speak TLS 1.3 (older JVMs, .NET Framework, appliances) fail; move them to TLS 1.3, or choose a security policy that allows TLS 1.2.",
  HTTP_MISDIRECTED:
    "421 Misdirected Request: the front end refuses this SNI and Host pair. A STRICT endpoint access mode (enhanced security policy) or domain-fronting protection answers so; the tool compares access modes through the same address to tell which names are accepted.",
} as const satisfies Partial<Record<FindingCode, string>>;

/** A custom domain name that does not resolve: the zone is private, so forwarding is the suspect. */
export const DOMAIN_NOT_RESOLVED =
  "A private custom domain name lives in a Route 53 private hosted zone associated with the endpoint's VPC: the on-prem resolver must forward that domain (not only execute-api.<region>.amazonaws.com) to a Route 53 Resolver inbound endpoint, and the zone needs an alias record for the domain pointing at the VPC endpoint.";

/** HTTP_FORBIDDEN after the comparison: every mode refused, so the mode is not the cause. */
export const FORBIDDEN_IN_EVERY_MODE =
  "403 Forbidden from API Gateway in header, host and alias mode alike: the API id is not this endpoint's API (another API, not PRIVATE, another region), or the stage is not deployed; a required API key (usage plan) or AWS WAF can answer the same.";

/** Only the IPv6 addresses fail where IPv4 works (primary cause hint, verdict.ts). */
export function ipv6OnlyHint(
  layer: "tcp" | "tls" | "http",
  failing: string[],
  working: string[],
  codeHint: string,
): string {
  const which = `Only the IPv6 addresses ${failing.join(", ")} fail while ${working.join(", ")} work`;
  if (layer === "tcp")
    return `${which}: a dualstack endpoint whose security group has an inbound rule for TCP/443 from the on-prem IPv4 range but none for the on-prem IPv6 range is the usual cause; also check the IPv6 route toward the VPC's IPv6 CIDR (BGP IPv6 prefixes over Direct Connect) and the NACL's IPv6 rules. ${codeHint}`;
  // Connected, then stalled or cut: IPv6 routers never fragment, so a filtered ICMPv6 Packet Too
  // Big is a path-MTU black hole for IPv6 alone.
  return `${which}, after TCP connected: an IPv6 path-MTU black hole (ICMPv6 Packet Too Big filtered on the way, so large packets vanish) is the usual cause; allow ICMPv6 type 2 through, or clamp the TCP MSS for IPv6 too. ${codeHint}`;
}
