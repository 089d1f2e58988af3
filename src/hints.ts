// Every hint text, in one place: what to change, per finding code, most likely cause first.
// Other modules import their texts from here. A hint paraphrases an AWS page; the page is named
// beside it (read it before changing the hint). Hints that depend on context (the access mode,
// the policy a message names, API Gateway's own message) are pure functions of that data.
import type {
  AccessMode,
  AddressInfo,
  AwsCode,
  FindingCode,
  HttpCode,
  PolicyType,
} from "./types.js";

// ---- dns -------------------------------------------------------------------------------

// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-api-test-invoke-url.html
// (private DNS names; the vpce names resolve publicly to the endpoint's private addresses) and
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-forwarding-inbound-queries.html
// (on-prem resolvers reach a VPC's private DNS only through a Resolver inbound endpoint).
const NXDOMAIN_ENDPOINT =
  "The name does not exist: check it for a typo and the region, and that the VPC endpoint still exists (copy the name from the endpoint's DNS names, vpce-...execute-api.<region>.vpce.amazonaws.com).";
const NXDOMAIN_API_NAME =
  "The API's own name does not exist for this resolver: check the API id and the region; the on-prem resolver must forward execute-api.<region>.amazonaws.com (or this API's name) to a Route 53 Resolver inbound endpoint in the VPC whose interface endpoint has private DNS on (forwarding to the VPC's .2 resolver from on-prem does not work).";
const PUBLIC_ENDPOINT =
  "A non-private address came back for the name asked: a public name was used instead of the VPC endpoint's own (vpce-...execute-api.<region>.vpce.amazonaws.com), or DNS is rewritten on the way. Traffic to it would not use Direct Connect. If the range is yours, add it to privateCidrs.";
// From on-prem, {apiId}.execute-api.{region}.amazonaws.com answers with public addresses unless
// it is forwarded into the VPC: the request then goes to the public front door, which answers a
// private API with 403, not NXDOMAIN.
const PUBLIC_API_NAME =
  "The API's own name resolved to public addresses: on-prem DNS does not forward execute-api.<region>.amazonaws.com to a Route 53 Resolver inbound endpoint (so public DNS answers), or the VPC endpoint's private DNS is off; API Gateway answers a private API called there with 403 Forbidden. Traffic would not use Direct Connect. Forward the name to the inbound endpoint (and turn private DNS on), or call the API by the vpce name with x-apigw-api-id (--mode header).";
const PUBLIC_DOMAIN =
  "The custom domain name resolved to public addresses: the on-prem resolver does not forward the domain's Route 53 private hosted zone to a Route 53 Resolver inbound endpoint, so a public record answers (or DNS is rewritten). Traffic would not use Direct Connect.";

/** What kind of name was asked: the endpoint's, the API's own (host or alias), or a domain. */
export type NameKind = "endpoint" | "api" | "domain";

/** The DNS hint for a failure, by the kind of name asked (the access mode decides the name). */
export function dnsHint(code: FindingCode, kind: NameKind): string {
  if (code === "DNS_NXDOMAIN" && kind === "api") return NXDOMAIN_API_NAME;
  if (code === "DNS_PUBLIC_ADDRESS")
    return kind === "api" ? PUBLIC_API_NAME : kind === "domain" ? PUBLIC_DOMAIN : PUBLIC_ENDPOINT;
  return HINTS[code];
}

// ---- tls -------------------------------------------------------------------------------

// https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-limits-endpoints.html: endpoints take an
// MTU of 8500, send no ICMP "fragmentation needed", and clamp MSS on all packets. So the endpoint
// is not the black hole: a hop smaller than this host's interface is.
/** TLS_TIMEOUT; the egress interface's MTU is added per address by `pathFactHint`. */
const TLS_TIMEOUT =
  'TCP connects but the TLS handshake never completes: most often a path-MTU black hole. A hop on the way has a smaller MTU than this host\'s interface (a 1500-byte virtual interface against jumbo frames on-prem, a tunnel over Direct Connect, a firewall), drops the large certificate flight, and no ICMP "fragmentation needed" comes back. Clamp the TCP MSS at the on-prem edge to the smallest MTU on the path. Or an inline device is holding the handshake.';

// ---- http ------------------------------------------------------------------------------

// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies.html
// (endpoint access mode: STRICT uses SNI host matching; private APIs then take private DNS names
// and custom domain names only; any SecurityPolicy_* is an enhanced policy) and
// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies-update.html
// (a change of security policy or access mode takes about 15 minutes to propagate). The design
// (docs/design.md) reads the security-policy page as: from STRICT to BASIC the endpoint is unavailable for
// about 15 minutes, for every client: so BASIC is never the first advice.
const STRICT_WAY_OUT =
  "Move these clients to the API's private DNS name ({apiId}.execute-api.<region>.amazonaws.com, --mode host) or to the custom domain name. Switching the API to BASIC endpoint access mode makes the endpoint unavailable for about 15 minutes, for the clients that work now too: plan it as a change, not an incident fix.";

// https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-disable-default-endpoint.html
// (a disabled default endpoint answers 403 Forbidden on every stage) and
// https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden
const FORBIDDEN_CAUSES =
  "an API that is not PRIVATE, an API in another region, or a stage that is not deployed; the default endpoint disabled (disableExecuteApiEndpoint, the usual setup once a private custom domain exists: every mode but the custom domain gets 403); a method that requires an API key (usage plan) called without a valid x-api-key; or AWS WAF (these answers look alike). With an enhanced security policy (any SecurityPolicy_*) in STRICT endpoint access mode, only private DNS names and custom domain names are accepted";
const FORBIDDEN = `403 Forbidden from API Gateway: a missing or wrong x-apigw-api-id, ${FORBIDDEN_CAUSES}: compare with --mode host.`;
const FORBIDDEN_BY_NAME = `403 Forbidden from API Gateway: the API id in the name is not an API this endpoint may call, ${FORBIDDEN_CAUSES}.`;

// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains.html
// (domain name access association, base path mappings, the domain's own resource policy `policy`).
const FORBIDDEN_DOMAIN =
  "403 Forbidden through the custom domain name: no base path mapping for this base path, no domain name access association between this domain name and this VPC endpoint (a new one takes about 15 minutes to be ready), or the domain name's own resource policy (its `policy`) does not allow execute-api:Invoke from this VPC endpoint.";

// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-vpc-endpoint-policies.html:
// a non-SigV4 Authorization value (a bearer token) is evaluated as anonymous, not as a broken
// signature. Public captures of the real cause: aws/chalice#828 (a route not deployed),
// amazon-archives/aws-cognito-angular-quickstart#50 ("that error will return for any invalid
// endpoints"), and the 403 table of repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden.
const SIGNATURE =
  "API Gateway refused the Authorization header as a SigV4 signature. Most often the request went to a path, method or stage that does not exist: with an Authorization header, API Gateway answers a missing resource with this signature error instead of Missing Authentication Token; check the stage, path and method first. Otherwise the method uses IAM authorization: sign the request (SigV4) with valid credentials. For 'Signature expired', check this host's clock (NTP).";

// https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
// (UNAUTHORIZED 401 is the authorizer's; INVALID_API_KEY, MISSING_AUTHENTICATION_TOKEN,
// INVALID_SIGNATURE are 403; AUTHORIZER_CONFIGURATION_ERROR and AUTHORIZER_FAILURE are 500;
// QUOTA_EXCEEDED and THROTTLED are 429; BAD_REQUEST_BODY / BAD_REQUEST_PARAMETERS 400,
// REQUEST_TOO_LARGE 413).
const UNAUTHORIZED =
  "401 Unauthorized: the method's Lambda or Cognito authorizer could not authenticate the caller (the identity source, usually the Authorization header, is missing or its token is bad or expired). An API key or a signature problem is answered with 403, not 401.";
const THROTTLED =
  "429: throttled by the usage plan, method, stage or account limits, or a usage plan's quota is used up ('Limit Exceeded'). Back off and retry; raise the limit or the quota if the traffic is expected.";
const BACKEND =
  "API Gateway answered 5xx: the integration behind the API failed (Lambda error, backend unreachable or slow: 504 Endpoint request timed out), or the method's authorizer failed (AuthorizerConfigurationException: API Gateway could not call the Lambda or Cognito authorizer; AuthorizerFailure: the authorizer errored). The network path to the endpoint is fine: read the API's execution logs.";
const UNEXPECTED =
  "An answer this tool does not recognise: see the status and the body in the evidence (a request validator's 400 or a 413 Request Too Long say what they rejected in their message).";

// ---- path ------------------------------------------------------------------------------
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

// ---- aws -------------------------------------------------------------------------------
// The aws layer's hints: what to change on the AWS side. Each finding's own hint names the
// resource; these are the texts per code (src/diagnose/hints.ts spreads them into HINTS).

export const AWS_HINTS: Record<AwsCode, string> = {
  AWS_OK: "",
  // https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html
  AWS_SG_BLOCKS_SOURCE:
    "No security group of the interface endpoint allows inbound TCP 443 from this host's source address: add an inbound rule for HTTPS (TCP 443) from the on-premises range to one of the endpoint's security groups.",
  // https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html (ACLs are stateless)
  AWS_NACL_BLOCKS:
    "The network ACL of the endpoint's subnet denies this host's traffic: ACLs are stateless and read in rule-number order, so TCP 443 must be allowed inbound from the on-premises range and the ephemeral ports (1024-65535) outbound to it, before any deny rule with a lower number.",
  // https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html
  AWS_NO_RETURN_ROUTE:
    "The route table of the endpoint's subnet has no route back to this host (none, or a blackhole): the answer never leaves the VPC. Route the on-premises prefix to the virtual private gateway or transit gateway, or enable route propagation from the virtual private gateway.",
  AWS_ENDPOINT_STATE:
    "The interface endpoint is not available, or its private DNS is off while the access mode uses the API's private DNS name: wait for or fix the endpoint (Pending, Rejected, Failed), or enable private DNS names, or call it in header mode (endpoint name and x-apigw-api-id).",
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-apis.html
  AWS_API_NOT_PRIVATE:
    "The API's endpoint type is not PRIVATE: an interface endpoint for execute-api reaches private APIs only (a public API through it answers 403). Change the endpoint type to PRIVATE, or call the API over its public or custom domain name.",
  AWS_STAGE_MISSING:
    "The stage does not exist on this API, or has no deployment: create the deployment for the stage (API Gateway answers 403 Forbidden for a stage it does not have).",
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies-examples.html
  AWS_POLICY_EXCLUDES_ENDPOINT:
    "The API's resource policy does not let this endpoint invoke it: a private API needs a resource policy that allows execute-api:Invoke for this endpoint (aws:SourceVpce or aws:SourceVpc) and no Deny that matches it. Deploy the API again after changing the policy.",
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-disable-default-endpoint.html
  AWS_DEFAULT_ENDPOINT_DISABLED:
    "disableExecuteApiEndpoint is on: the API answers only through its custom domain names. Call it through the custom domain, or turn the default endpoint back on and redeploy.",
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies.html
  AWS_ACCESS_MODE_STRICT:
    "The API's endpoint access mode is STRICT (enhanced security policy): only the private DNS name and custom domain names are accepted, not the endpoint name with x-apigw-api-id. Move these clients to the private DNS name or the custom domain; switching the API to BASIC makes it unavailable for about 15 minutes, for the clients that work too.",
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains.html
  AWS_NO_DOMAIN_ASSOCIATION:
    "No domain name access association from this VPC endpoint to the private custom domain: create one (the domain owner's account; about 15 minutes to be ready).",
  AWS_UNREADABLE:
    "The aws layer could not read this (no credentials, or access denied): grant the read-only actions listed in the README's IAM policy, or pass --aws-profile. The rest of the diagnosis does not depend on it.",
};

/** The one text per code; context-dependent codes have a function below too. */
export const HINTS: Record<FindingCode, string> = {
  DNS_OK: "",
  DNS_NXDOMAIN: NXDOMAIN_ENDPOINT,
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
  DNS_PUBLIC_ADDRESS: PUBLIC_ENDPOINT,
  DNS_OS_MISMATCH:
    "The operating system resolves the name differently from DNS: look for an /etc/hosts entry or an NSS override on this host.",
  DNS_DOMAIN_ELSEWHERE:
    "The custom domain name resolves to addresses that are not this VPC endpoint's: the Route 53 private hosted zone's alias record points at another endpoint, or the on-prem resolver does not forward that zone to a Route 53 Resolver inbound endpoint (and answers from elsewhere).",
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-apis.html
  // (private DNS on the endpoint: public APIs of the region are no longer reachable from the VPC
  // by their default names; a custom domain name reaches them).
  DNS_ZONE_FORWARDED:
    "The name of an API that cannot exist resolves to this endpoint: on-prem DNS sends the whole execute-api.<region>.amazonaws.com zone to the VPC, whose endpoint has private DNS on, so every public API of that region called from this host reaches the endpoint and gets 403. Forward only the private APIs' names ({apiId}.execute-api.<region>.amazonaws.com), or call public APIs through a custom domain name.",
  TCP_OK: "",
  TCP_TIMEOUT:
    "SYN unanswered: the endpoint's security group lacks inbound TCP/443 from this host's source address or its on-prem range, a NACL drops it, or routing: the VPC prefix is not advertised over Direct Connect (BGP), or the endpoint subnet's route table has no route back to the on-prem prefix (via the virtual private gateway or transit gateway); a transit gateway without an attachment in that Availability Zone.",
  TCP_REFUSED:
    "Connection reset: the address is not the endpoint (stale DNS answer), or a firewall is rejecting TCP/443.",
  TCP_UNREACHABLE:
    "No route: the on-prem side has no route toward the VPC CIDR (EHOSTUNREACH / ENETUNREACH); check the route toward the Direct Connect router.",
  TLS_OK: "",
  TLS_TIMEOUT,
  TLS_UNTRUSTED_CERT:
    "The certificate chain is not trusted: a TLS-inspecting proxy is in the path (see its issuer). Exempt the endpoint from inspection, or pass its CA with --ca-file.",
  TLS_CERT_EXPIRED:
    "The certificate is expired or not yet valid: check this host's clock (NTP) against the certificate's dates in the message; an endpoint's real certificate is renewed by AWS, so a wrong clock, or an expired certificate of a TLS-inspecting middlebox, is the likelier cause.",
  TLS_HOSTNAME_MISMATCH:
    "The certificate does not cover the name: a wrong name is used, or an intercepting device answered.",
  TLS_HANDSHAKE_FAILED:
    "The handshake was aborted (alert or reset): an inline device or a TLS protocol policy is interfering.",
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies.html
  // (SecurityPolicy_TLS13_1_3_2025_09 accepts TLS 1.3 and rejects TLS 1.2 and 1.0).
  TLS_12_REFUSED:
    "TLS 1.3 works but a handshake limited to TLS 1.2 is refused: the API (or its custom domain) uses a TLS 1.3-only security policy (SecurityPolicy_TLS13_1_3_*). Clients that cannot speak TLS 1.3 (older JVMs, .NET Framework, appliances) fail; move them to TLS 1.3, or choose a security policy that allows TLS 1.2.",
  HTTP_OK: "",
  HTTP_FORBIDDEN: FORBIDDEN,
  // https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden
  HTTP_MISSING_AUTH_TOKEN:
    "Missing Authentication Token: the resource or method does not exist in that stage (wrong path, method not GET, stage not redeployed after the resource was added), or the method uses IAM authorization and the request is unsigned.",
  HTTP_POLICY_DENY:
    "A policy explicitly denies this request; the message does not name which. Most often the API's resource policy (a Deny whose aws:SourceVpce or aws:VpcSourceIp condition matches this endpoint or caller, or the API not redeployed after a policy change), else the VPC endpoint's own policy; for an IAM-authorized method also the caller's own IAM policies, a permissions boundary, a session policy or an organization's SCP or RCP.",
  HTTP_POLICY_NO_ALLOW:
    "No policy allows this caller; the message does not name which, and then it is the API's resource policy: it has no Allow for execute-api:Invoke from this VPC endpoint (aws:SourceVpce) or this caller (add it, then redeploy the API).",
  HTTP_AUTHORIZER_DENY:
    "The API's Lambda or Cognito authorizer denied the request: fix the authorizer's returned policy (its Resource must cover this stage, method and path; beware a cached policy from another method) or the token sent. The API's resource policy is not the cause.",
  HTTP_SIGNATURE_INVALID: SIGNATURE,
  HTTP_UNAUTHORIZED: UNAUTHORIZED,
  HTTP_THROTTLED: THROTTLED,
  HTTP_BACKEND_ERROR: BACKEND,
  HTTP_NOT_API_GATEWAY:
    "The answer did not come from API Gateway (no x-amzn-RequestId / x-amz-apigw-id): a proxy or firewall answered instead of the endpoint.",
  HTTP_TIMEOUT:
    "The request was sent but no response came: an inline device, or MTU trouble on larger packets.",
  HTTP_RESET:
    "The connection was reset or closed after the request, before any status: an inline IPS or firewall ending the flow (it let TCP and TLS through, then judged the request), or MTU trouble on the larger packets of the request; compare with a smaller request and check the path's MSS clamping.",
  HTTP_UNEXPECTED_STATUS: UNEXPECTED,
  HTTP_MODE_REJECTED: `Header mode (the vpce name plus x-apigw-api-id) is refused while host or alias mode answers through the same address: the API most likely uses an enhanced security policy (any SecurityPolicy_*) in STRICT endpoint access mode, which accepts only private DNS names and custom domain names, with SNI equal to Host. ${STRICT_WAY_OUT} Or a proxy on the way strips x-apigw-api-id or rewrites Host.`,
  HTTP_DOMAIN_FORBIDDEN:
    "The custom domain name answers Forbidden while the API answers through the same address: there is no domain name access association between this domain name and this VPC endpoint (a new one takes about 15 minutes to be ready), no base path mapping for this base path, or the domain name's own resource policy (its `policy`, which denies everything until it is edited) does not allow this VPC endpoint.",
  // The edge-optimized case of STRICT follows CloudFront's domain-fronting protection, which
  // answers 421 (security policies page above); what a private STRICT refusal looks like is not
  // documented, so the tool compares modes instead of trusting the status alone.
  HTTP_MISDIRECTED: `421 Misdirected Request: the front end refuses this SNI and Host pair (STRICT endpoint access mode of an enhanced security policy, or domain-fronting protection: SNI and Host must name the same host, and a name the mode accepts). The tool compares access modes through the same address to tell which names are accepted. ${STRICT_WAY_OUT}`,
  ...PATH_HINTS,
  ...AWS_HINTS,
};

// ---- policies: which one refused -------------------------------------------------------

// The kinds of policy an AccessDenied message names, as IAM words them:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
// ("with an explicit deny in a <kind>", "because no <kind> allows the <action> action").
// For private APIs: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies-examples.html
// (aws:SourceVpce, aws:VpcSourceIp for private APIs) and apigateway-vpc-endpoint-policies.html.
type NamedPolicy = Exclude<PolicyType, "unknown">;

const POLICY_DENY: Record<NamedPolicy, string> = {
  resource:
    "An explicit Deny in the API's resource policy refuses this request: a Deny whose aws:SourceVpce or aws:VpcSourceIp condition matches this endpoint or caller (for private APIs the caller's address is aws:VpcSourceIp, not aws:SourceIp). Resource policy changes take effect only after the API is redeployed.",
  "vpc-endpoint":
    "An explicit Deny in the VPC endpoint's own policy refuses this request, not the API's resource policy: it was Full Access when the endpoint was created and is often restricted later. A bearer token (not SigV4) is evaluated there as anonymous.",
  identity:
    "An explicit Deny in an identity-based (IAM) policy of the caller refuses this request: the IAM user or role that signed it (the method uses IAM authorization) has a Deny on execute-api:Invoke for this API, stage, method or path. Change that role's own policies, not the API's resource policy.",
  scp: "An explicit Deny in a service control policy (AWS Organizations) of the caller's account refuses this request: ask the organization's administrators; nothing in the API or the endpoint can override it.",
  rcp: "An explicit Deny in a resource control policy (AWS Organizations) of the API's account refuses this request: it caps every caller of execute-api there; ask the organization's administrators.",
  "permissions-boundary":
    "An explicit Deny in the permissions boundary of the IAM user or role that signed the request refuses it: the boundary caps what its identity-based policies may allow.",
  session:
    "An explicit Deny in the session policy passed when the caller's role session was created (AssumeRole, federation) refuses this request: create the session without that restriction.",
};

const POLICY_NO_ALLOW: Record<NamedPolicy, string> = {
  resource:
    "No statement of the API's resource policy allows this caller: add an Allow for execute-api:Invoke on this API from this VPC endpoint (aws:SourceVpce) or VPC, then redeploy the API (a private API needs a resource policy).",
  "vpc-endpoint":
    "No statement of the VPC endpoint's own policy allows this request, not the API's resource policy: it must allow execute-api:Invoke on this API, stage and method for this caller (a bearer token, not SigV4, is evaluated as anonymous).",
  identity:
    "No identity-based policy of the caller allows this request: the IAM user or role that signed it (the method uses IAM authorization) needs an Allow for execute-api:Invoke on this API, stage, method and path.",
  scp: "No service control policy (AWS Organizations) of the caller's account allows execute-api:Invoke: the SCPs that apply must allow it; ask the organization's administrators.",
  rcp: "No resource control policy (AWS Organizations) of the API's account allows this request: ask the organization's administrators.",
  "permissions-boundary":
    "The permissions boundary of the IAM user or role that signed the request does not allow execute-api:Invoke: add it to the boundary, not only to the identity-based policies.",
  session:
    "The session policy passed when the caller's role session was created does not allow execute-api:Invoke: create the session with a policy that allows it, or without one.",
};

// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains.html
// (the domain name's resource policy, `policy`, must allow this endpoint: it denies until edited).
const DOMAIN_POLICY =
  "Through a custom domain name, the domain name's own resource policy (its `policy`, which denies everything until it is edited) must allow execute-api:Invoke from this VPC endpoint, besides the API's resource policy.";

/** The hint for an AccessDenied answer, naming the kind of policy the message names. */
export function policyHint(
  code: HttpCode,
  policy: PolicyType,
  ctx: { mode?: AccessMode } = {},
): string {
  if (code === "HTTP_AUTHORIZER_DENY") return HINTS[code];
  const base =
    policy === "unknown"
      ? HINTS[code]
      : code === "HTTP_POLICY_DENY"
        ? POLICY_DENY[policy]
        : POLICY_NO_ALLOW[policy];
  const domainMayBe = policy === "unknown" || policy === "resource";
  return ctx.mode === "domain" && domainMayBe ? `${DOMAIN_POLICY} ${base}` : base;
}

/** The policy kinds the classifier tells apart, for the table-driven tests. */
export const POLICY_KINDS = Object.keys(POLICY_DENY) as NamedPolicy[];

// ---- hints that quote API Gateway's own message ----------------------------------------

/** What API Gateway's message says it rejected, when it says it: quoted in the hint. */
export function messageHint(code: HttpCode, status: number | undefined, message: string): string {
  const m = message.toLowerCase();
  const quoted = JSON.stringify(message);
  if (code === "HTTP_UNEXPECTED_STATUS") {
    if (m.includes("invalid request body"))
      return `API Gateway's request validator rejected the body: ${quoted}. The method has a request model and validation on; send a body that matches the model (and its Content-Type), or change the validator. The network path is fine.`;
    if (m.includes("missing required request parameters"))
      return `API Gateway's request validator rejected the request: ${quoted}. Send the query string parameters and headers it lists (--path with a query string, --header), or relax the method's required parameters. The network path is fine.`;
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html
    if (status === 413 || m.includes("request too long"))
      return `API Gateway refused the request as too large (${status ?? "?"} ${quoted}): REST APIs accept payloads up to 10 MB. The network path is fine.`;
  }
  if (code === "HTTP_THROTTLED" && m.includes("limit exceeded"))
    return `A usage plan's quota for this API key is used up: API Gateway answered ${quoted} (QUOTA_EXCEEDED). It resets at the quota's period (day, week or month); raise the quota or use another key. Rate throttling says 'Too Many Requests' instead.`;
  if (code === "HTTP_BACKEND_ERROR" && m.includes("authorizer"))
    return `The method's authorizer failed, not the integration: ${quoted}. Check the Lambda authorizer's logs and API Gateway's permission to invoke it, or the Cognito user pool. The network path is fine.`;
  return HINTS[code];
}

/** 5xx answers whose error type names the authorizer (AuthorizerConfigurationException...). */
export function backendHint(errorType: string, message: string): string {
  if (/authorizer/i.test(errorType))
    return `The method's authorizer failed (${errorType}), not the integration: API Gateway could not call the Lambda or Cognito authorizer, or it errored or returned a malformed policy${message ? ` (${JSON.stringify(message)})` : ""}. Check the authorizer's logs and API Gateway's permission to invoke it. The network path is fine.`;
  return messageHint("HTTP_BACKEND_ERROR", 500, message);
}

/** HTTP_FORBIDDEN in the access mode used: a domain has its own causes. */
export function forbiddenHint(mode?: AccessMode): string {
  if (mode === "domain") return FORBIDDEN_DOMAIN;
  return mode === "host" || mode === "alias" ? FORBIDDEN_BY_NAME : FORBIDDEN;
}

// ---- after the comparison of access modes (compare.ts) ---------------------------------

/** HTTP_FORBIDDEN after the comparison: every mode refused, so the mode is not the cause. */
export const FORBIDDEN_IN_EVERY_MODE =
  "403 Forbidden from API Gateway in header, host and alias mode alike, so the access mode is not the cause: the API id is not this endpoint's API (another API, not PRIVATE, another region), the stage is not deployed, or the default endpoint is disabled (disableExecuteApiEndpoint: only the custom domain name answers); a required API key (usage plan) or AWS WAF can answer the same.";

/** A custom domain name that does not resolve: the zone is private, so forwarding is the suspect. */
export const DOMAIN_NOT_RESOLVED =
  "A private custom domain name lives in a Route 53 private hosted zone associated with the endpoint's VPC: the on-prem resolver must forward that domain (not only execute-api.<region>.amazonaws.com) to a Route 53 Resolver inbound endpoint, and the zone needs an alias record for the domain pointing at the VPC endpoint.";

// ---- primary cause: hints from several findings at once (verdict.ts) -------------------

/** Some stages Forbidden while others work through the same endpoint and API id. */
export function stageNotDeployedHint(failing: string[], working: string[]): string {
  const those = failing.length > 1 ? "those stages are" : "that stage is";
  return `Stage ${failing.join(", ")} answers Forbidden while ${working.join(", ")} works through the same endpoint with the same API id: the header and endpoint are fine, so ${those} most likely not deployed (or misspelled). Check the API's stages and deploy.`;
}

/**
 * Every stage Forbidden. What to check first depends on how the API was named: the API id sent
 * in x-apigw-api-id (header mode), the API id in the name (host, alias), or the domain's setup.
 */
export function everyStageForbiddenHint(
  how: { compared: boolean; apiIdHeader: boolean },
  codeHint: string,
): string {
  if (!how.apiIdHeader) return `Every stage answers Forbidden. ${codeHint}`;
  const mode = how.compared
    ? "; host and alias mode answer Forbidden too through the same address, so the access mode is not the cause"
    : " and the endpoint access mode (STRICT security policies refuse header mode: compare with --mode host)";
  return `Every stage answers Forbidden: check the API id sent in x-apigw-api-id (is it this API's, a PRIVATE API, in this region?)${mode}. ${codeHint}`;
}

/** Some addresses fail at TCP or TLS while others work: one Availability Zone. */
export function oneZoneHint(failing: string[], working: string[], codeHint: string): string {
  const s = (n: string[]) => (n.length === 1 ? "s" : "");
  return `Only ${failing.join(", ")} fail${s(failing)} while ${working.join(", ")} work${s(working)}: one Availability Zone's endpoint interface is affected (its subnet's NACL or route table, or the route toward that subnet). ${codeHint}`;
}

/** Some SYNs got ICMP unreachable, others nothing: routing rather than a security group. */
export function routingHint(codeHint: string): string {
  // Routers rate-limit ICMP: some SYNs get "unreachable", the rest nothing at all.
  return `Some connections got ICMP unreachable (TCP_UNREACHABLE) while others timed out: that points to routing (no route toward the VPC CIDR, a router rate-limiting its ICMP) rather than a security group. ${codeHint}`;
}

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
