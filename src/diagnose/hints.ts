import type { FindingCode, HttpCode, PolicyType } from "../types.js";
import { ACCESS_HINTS } from "./hints-access.js";

/** What to change, per finding code: the likely causes docs/design.md names, most likely first. */
export const HINTS: Record<FindingCode, string> = {
  DNS_OK: "",
  DNS_NXDOMAIN:
    "The name does not exist: check it for a typo, the region, and that the VPC endpoint still exists. For a private DNS name (--mode host), the on-prem resolver must forward execute-api.<region>.amazonaws.com to a Route 53 Resolver inbound endpoint (forwarding to the VPC's .2 resolver from on-prem does not work).",
  DNS_NODATA:
    "The name exists but has no A/AAAA record: it is not the endpoint's DNS name; copy it from the VPC endpoint's DNS entries.",
  DNS_SERVFAIL:
    "The resolver failed: check the on-prem resolver and its conditional forwarder toward the Route 53 Resolver inbound endpoint.",
  DNS_REFUSED:
    "The resolver refused the query: this host is not allowed to use it (ACL / allow-query), or it does not serve this zone.",
  DNS_TIMEOUT:
    "No answer over UDP or TCP: the resolver is unreachable from this host (firewall on UDP/TCP 53, wrong address, resolver down).",
  DNS_MALFORMED:
    "The reply could not be decoded or did not match the question: a broken resolver or a DNS-rewriting middlebox is in the path.",
  DNS_PUBLIC_ADDRESS:
    "A non-private address was returned: the public execute-api name was used instead of the VPC endpoint name, or DNS is rewritten. Traffic to it would not use Direct Connect. Use the vpce-...execute-api.<region>.vpce.amazonaws.com name (or add the VPC range to privateCidrs if it is yours).",
  DNS_OS_MISMATCH:
    "The operating system resolves the name differently from DNS: look for an /etc/hosts entry or an NSS override on this host.",
  TCP_OK: "",
  TCP_TIMEOUT:
    "SYN unanswered: the endpoint's security group lacks inbound TCP/443 from the on-prem range, a NACL drops it, or Direct Connect routing is missing (BGP prefixes advertised, route propagation to the subnet's route table).",
  TCP_REFUSED:
    "Connection reset: the address is not the endpoint (stale DNS answer), or a firewall is rejecting TCP/443.",
  TCP_UNREACHABLE:
    "No route: the on-prem side has no route toward the VPC CIDR (EHOSTUNREACH / ENETUNREACH); check the route toward the Direct Connect router.",
  TLS_OK: "",
  TLS_TIMEOUT:
    "TCP connects but the TLS handshake never completes: a path-MTU black hole on the Direct Connect path (jumbo frames on the private VIF toward an endpoint that takes 8500, with no ICMP 'fragmentation needed' coming back). Clamp the TCP MSS at the on-prem edge, or check an inline device.",
  TLS_UNTRUSTED_CERT:
    "The certificate chain is not trusted: a TLS-inspecting proxy is in the path (see its issuer). Exempt the endpoint from inspection, or pass its CA with --ca-file.",
  TLS_CERT_EXPIRED:
    "The certificate is expired or not yet valid: check this host's clock (NTP) against the certificate's dates in the message; an endpoint's real certificate is renewed by AWS, so a wrong clock, or an expired certificate of a TLS-inspecting middlebox, is the likelier cause.",
  TLS_HOSTNAME_MISMATCH:
    "The certificate does not cover the name: a wrong name is used, or an intercepting device answered.",
  TLS_HANDSHAKE_FAILED:
    "The handshake was aborted (alert or reset): an inline device or a TLS protocol policy is interfering.",
  HTTP_OK: "",
  HTTP_FORBIDDEN:
    "403 Forbidden from API Gateway: a missing or wrong x-apigw-api-id, an API that is not PRIVATE, an API in another region, or a stage that is not deployed; or a method that requires an API key (usage plan) called without a valid x-api-key; or AWS WAF blocking the request (these answers are identical). With an enhanced security policy (SecurityPolicy_*) in STRICT endpoint access mode only private DNS names and custom domain names are accepted (header mode needs BASIC): compare with --mode host.",
  HTTP_MISSING_AUTH_TOKEN:
    "Missing Authentication Token: the resource or method does not exist in that stage (wrong path, method not GET), or the method uses IAM authorization and the request is unsigned.",
  HTTP_POLICY_DENY:
    "A policy explicitly denies this request; the message does not name which. Most often the API's resource policy (an aws:sourceVpce condition naming another endpoint, or the API not redeployed after a policy change), else the VPC endpoint's own policy.",
  HTTP_POLICY_NO_ALLOW:
    "No policy allows this caller; the message does not name which. Most often the API's resource policy has no Allow for execute-api:Invoke from this VPC endpoint (add it, then redeploy the API), else the VPC endpoint's own policy.",
  HTTP_AUTHORIZER_DENY:
    "The API's Lambda or Cognito authorizer denied the request: fix the authorizer's returned policy (its Resource must cover this stage, method and path; beware a cached policy from another method) or the token sent. The API's resource policy is not the cause.",
  HTTP_SIGNATURE_INVALID:
    "The signature or credentials were refused (SigV4): the method uses IAM authorization, or the VPC endpoint's policy names principals, which makes API Gateway evaluate the Authorization header even for methods with auth NONE (a bearer token there is read as a broken signature). Sign the request with valid credentials, or restore the endpoint policy; for 'Signature expired', check this host's clock (NTP).",
  HTTP_UNAUTHORIZED: "401: an authorizer expects credentials (token, API key or signature).",
  HTTP_THROTTLED: "429: throttled by the stage, method or usage plan limits.",
  HTTP_BACKEND_ERROR:
    "API Gateway answered 5xx: the integration behind the API failed. The network path is fine.",
  HTTP_NOT_API_GATEWAY:
    "The answer did not come from API Gateway (no x-amzn-RequestId / x-amz-apigw-id): a proxy or firewall answered instead of the endpoint.",
  HTTP_TIMEOUT:
    "The request was sent but no response came: an inline device, or MTU trouble on larger packets.",
  HTTP_RESET:
    "The connection was reset or closed after the request, before any status: an inline IPS or firewall ending the flow (it let TCP and TLS through, then judged the request), or MTU trouble on the larger packets of the request; compare with a smaller request and check the path's MSS clamping.",
  HTTP_UNEXPECTED_STATUS:
    "An answer this tool does not recognise: see the status and body in the evidence.",
  // Access modes, custom domain names, dualstack: their own block (hints-access.ts).
  ...ACCESS_HINTS,
};

const POLICY_NAMED: Record<Exclude<PolicyType, "unknown">, string> = {
  resource:
    "the API's resource policy (an aws:sourceVpce or aws:SourceIp condition that does not match this endpoint or caller; resource policy changes take effect only after the API is redeployed)",
  "vpc-endpoint":
    "the VPC endpoint's own policy, not the API's resource policy: it was Full Access when the endpoint was created and is often restricted later; it must allow execute-api:Invoke on this API, stage and method for this caller",
  identity:
    "an identity-based (IAM) policy of the signing user or role (or a permissions boundary or SCP), not the API's resource policy",
};

/** The hint for an AccessDenied answer, naming the kind of policy the message names. */
export function policyHint(code: HttpCode, policy: PolicyType): string {
  if (code === "HTTP_AUTHORIZER_DENY" || policy === "unknown") return HINTS[code];
  const named = POLICY_NAMED[policy];
  return code === "HTTP_POLICY_DENY"
    ? `An explicit Deny in ${named} refuses this request.`
    : `Nothing allows this caller in ${named}: add an Allow for execute-api:Invoke.`;
}
