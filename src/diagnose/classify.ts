// The one place where evidence becomes a finding code and a hint: pure functions of data.
import type { DnsObservation } from "../probes/dns.js";
import type { HttpObservation } from "../probes/http.js";
import type { OsLookupObservation } from "../probes/os-resolver.js";
import type { TcpObservation } from "../probes/tcp.js";
import type { TlsObservation } from "../probes/tls.js";
import type {
  AccessMode,
  DnsCode,
  DnsEvidence,
  FindingCode,
  FindingOf,
  FindingStatus,
  HttpCode,
  HttpEvidence,
  HttpFinding,
  Layer,
  PolicyType,
  TcpCode,
  Timings,
  TlsCode,
  TlsEvidence,
  TlsFinding,
} from "../types.js";
import { judgeAddresses, type AddressRange } from "./addresses.js";
import {
  HINTS,
  backendHint,
  dnsHint,
  forbiddenHint,
  messageHint,
  policyHint,
  type NameKind,
} from "../hints.js";

/** Phase timings are kept to 0.1 ms; a sum of two would otherwise show float noise in JSON. */
const sum = (a: number, b: number): number => Math.round((a + b) * 10) / 10;

const LAYER: Record<string, Layer> = {
  DNS: "dns",
  PATH: "path",
  TCP: "tcp",
  TLS: "tls",
  HTTP: "http",
};
const PASS = new Set<FindingCode>(["DNS_OK", "PATH_OK", "TCP_OK", "TLS_OK", "HTTP_OK"]);
/** Codes that warn: the path works, but something on it will bite someone (DESIGN: codes). */
const WARN = new Set<FindingCode>([
  "DNS_OS_MISMATCH",
  "DNS_ZONE_FORWARDED",
  "PATH_PROXY_ENV",
  "TLS_12_REFUSED",
]);

/** The layer a code belongs to, from its prefix, as a type. */
type LayerOf<C extends FindingCode> = C extends `DNS_${string}`
  ? "dns"
  : C extends `PATH_${string}`
    ? "path"
    : C extends `TCP_${string}`
      ? "tcp"
      : C extends `TLS_${string}`
        ? "tls"
        : "http";

/** A finding of `code`'s layer, with that layer's evidence. */
export function finding<C extends FindingCode>(
  code: C,
  message: string,
  evidence: FindingOf<LayerOf<C>>["evidence"],
  timings: Timings,
  where: { address?: string; stage?: string } = {},
): FindingOf<LayerOf<C>> {
  const layer = LAYER[code.split("_")[0] ?? ""] ?? "http";
  const status: FindingStatus = PASS.has(code) ? "pass" : WARN.has(code) ? "warn" : "fail";
  const made = { layer, code, status, ...where, timings, message, hint: HINTS[code], evidence };
  // The prefix decides the layer at run time, as LayerOf does for the compiler, which cannot
  // follow a string split: the one place the two are joined.
  return made as unknown as FindingOf<LayerOf<C>>;
}

// ---- dns -------------------------------------------------------------------------------

/** Most specific first: the first failure found in this order names the resolver's problem. */
const DNS_FAILURE_ORDER: [DnsCode, (o: DnsObservation) => boolean][] = [
  ["DNS_NXDOMAIN", (o) => o.rcode === "NXDOMAIN"],
  ["DNS_SERVFAIL", (o) => o.rcode === "SERVFAIL"],
  ["DNS_REFUSED", (o) => o.rcode === "REFUSED"],
  [
    "DNS_MALFORMED",
    (o) =>
      o.error === "malformed" ||
      o.error === "mismatch" ||
      (o.rcode !== undefined && o.rcode !== "NOERROR"),
  ],
  ["DNS_TIMEOUT", (o) => o.error === "timeout" || o.error === "network"],
  ["DNS_NODATA", (o) => o.rcode === "NOERROR" && o.addresses.length === 0],
];

/** One finding per resolver, from its A and AAAA observations. */
export function classifyDns(
  observations: DnsObservation[],
  ranges: AddressRange[],
  endpointV6: string[] = [],
): FindingOf<"dns"> {
  const made = classifyDnsCode(observations, ranges, endpointV6);
  const kind = nameKind(made.evidence.name ?? "");
  return made.status === "fail" ? { ...made, hint: dnsHint(made.code, kind) } : made;
}

const EXECUTE_API = /\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$/;
const ENDPOINT_NAME = /\.execute-api\.[a-z0-9-]+\.vpce\.amazonaws\.com(?:\.cn)?$/;

/**
 * Which name was asked, from the name itself: the VPC endpoint's (header mode), the API's own
 * (host mode: `{apiId}.execute-api...`, alias mode: `{apiId}-{vpceId}.execute-api...`), or
 * anything else (a custom domain name).
 */
export function nameKind(name: string): NameKind {
  const n = name.toLowerCase().replace(/\.$/, "");
  if (ENDPOINT_NAME.test(n)) return "endpoint";
  return EXECUTE_API.test(n) ? "api" : "domain";
}

function classifyDnsCode(
  observations: DnsObservation[],
  ranges: AddressRange[],
  endpointV6: string[],
): FindingOf<"dns"> {
  const first = observations[0];
  const resolver = first?.resolver ?? "?";
  const name = first?.name ?? "?";
  const addresses = [...new Set(observations.flatMap((o) => o.addresses))];
  const timings = {
    dns: Math.max(0, ...observations.map((o) => o.durationMs)),
    total: Math.max(0, ...observations.map((o) => o.durationMs)),
  };
  const evidence: DnsEvidence = { resolver, name, addresses, queries: observations };
  if (addresses.length === 0) {
    for (const [code, test] of DNS_FAILURE_ORDER) {
      const hit = observations.find(test);
      if (hit) return finding(code, dnsMessage(code, hit), evidence, timings);
    }
    return finding("DNS_NODATA", `${resolver}: no address for ${name}`, evidence, timings);
  }
  // Which rule made each address the endpoint's (DESIGN: dns layer; dualstack: addresses.ts).
  const judged = judgeAddresses(addresses, ranges, endpointV6);
  evidence.rules = Object.fromEntries(judged.map((j) => [j.address, j.rule ?? "public"]));
  const publicOnes = judged.filter((j) => j.rule === null).map((j) => j.address);
  if (publicOnes.length > 0) {
    const embedded = judged.filter((j) => j.rule === null && j.embedded);
    const nat64 = embedded.length
      ? ` (NAT64 64:ff9b::/96, judged by the IPv4 address it embeds: ${embedded.map((j) => `${j.address} = ${j.embedded ?? "?"}`).join(", ")})`
      : "";
    return finding(
      "DNS_PUBLIC_ADDRESS",
      `${resolver} answered non-private ${publicOnes.join(", ")} for ${name}${nat64}`,
      { ...evidence, public: publicOnes },
      timings,
    );
  }
  const omitted = observations.reduce((n, o) => n + (o.addressesOmitted ?? 0), 0);
  const more = omitted ? ` (and ${omitted} more, not tried)` : "";
  const dualstack = judged.filter((j) => j.rule === "dualstack").length;
  const nat64 = judged.filter((j) => j.rule === "nat64");
  const why =
    (dualstack
      ? ` (IPv6 global unicast among the AAAA answers of the endpoint's own vpce name)`
      : "") +
    (nat64.length
      ? ` (NAT64 64:ff9b::/96, judged by the IPv4 address it embeds: ${nat64.map((j) => `${j.address} = ${j.embedded ?? "?"}`).join(", ")})`
      : "");
  return finding(
    "DNS_OK",
    `${resolver}: ${name} -> ${addresses.join(", ")}${more}${why}`,
    evidence,
    timings,
  );
}

function dnsMessage(code: DnsCode, o: DnsObservation): string {
  const who = `${o.resolver} (${o.type})`;
  switch (code) {
    case "DNS_NXDOMAIN":
      return `${who}: ${o.name} does not exist (NXDOMAIN)`;
    case "DNS_NODATA":
      return `${who}: ${o.name} exists but has no A/AAAA record`;
    case "DNS_TIMEOUT":
      return `${who}: no answer in ${Math.round(o.durationMs)} ms${o.errorDetail ? ` (${o.errorDetail})` : ""}`;
    case "DNS_MALFORMED":
      return `${who}: unusable reply: ${o.errorDetail ?? `rcode ${o.rcode}`}`;
    default:
      return `${who}: ${o.rcode ?? o.error}`;
  }
}

export function classifyOsLookup(
  os: OsLookupObservation,
  dnsAddresses: string[],
): FindingOf<"dns"> | null {
  const same =
    os.addresses.length === dnsAddresses.length &&
    os.addresses.every((a) => dnsAddresses.includes(a));
  if (same) return null;
  const said = os.addresses.length
    ? os.addresses.join(", ")
    : os.timedOut
      ? `no answer within ${Math.round(os.durationMs)} ms (timeout)`
      : (os.errorCode ?? "nothing");
  return finding(
    "DNS_OS_MISMATCH",
    `the OS resolves ${os.name} to ${said}, DNS to ${dnsAddresses.join(", ") || "nothing"}`,
    { os: os.addresses, osError: os.errorCode, dns: dnsAddresses },
    { dns: os.durationMs, total: os.durationMs },
  );
}

// ---- tcp -------------------------------------------------------------------------------

const ERRNO_CODE: Record<string, TcpCode> = {
  ETIMEDOUT: "TCP_TIMEOUT",
  ECONNREFUSED: "TCP_REFUSED",
  ECONNRESET: "TCP_REFUSED",
  EHOSTUNREACH: "TCP_UNREACHABLE",
  ENETUNREACH: "TCP_UNREACHABLE",
  EHOSTDOWN: "TCP_UNREACHABLE",
  ENETDOWN: "TCP_UNREACHABLE",
  EADDRNOTAVAIL: "TCP_UNREACHABLE",
  EPERM: "TCP_UNREACHABLE",
  EACCES: "TCP_UNREACHABLE",
};

export function tcpCode(o: Pick<TcpObservation, "connected" | "timedOut" | "errno">): TcpCode {
  if (o.connected) return "TCP_OK";
  if (o.timedOut) return "TCP_TIMEOUT";
  return ERRNO_CODE[o.errno ?? ""] ?? "TCP_UNREACHABLE";
}

export function classifyTcp(o: TcpObservation, dnsMs: number): FindingOf<"tcp"> {
  const code = tcpCode(o);
  const target = `${o.address}:${o.port}`;
  const message =
    code === "TCP_OK"
      ? `connected to ${target} in ${Math.round(o.connectMs)} ms`
      : code === "TCP_TIMEOUT"
        ? `no answer to SYN from ${target} within ${Math.round(o.connectMs)} ms`
        : `${target}: ${o.errno ?? "failed"}`;
  const evidence = {
    port: o.port,
    errno: o.errno,
    syscall: o.syscall,
    localAddress: o.localAddress,
  };
  return finding(
    code,
    message,
    evidence,
    { dns: dnsMs, connect: o.connectMs, total: sum(dnsMs, o.connectMs) },
    { address: o.address },
  );
}

// ---- tls -------------------------------------------------------------------------------

const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_REVOKED",
  "CERT_SIGNATURE_FAILURE",
  "NO_CERTIFICATE",
]);
// A date problem, not a trust problem: this host's clock is the likelier cause than a proxy.
const EXPIRED = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);
/** Reported but not failures under --insecure. */
const CERT_PROBLEMS = new Set<TlsCode>([
  "TLS_UNTRUSTED_CERT",
  "TLS_CERT_EXPIRED",
  "TLS_HOSTNAME_MISMATCH",
]);

function certCode(error: string | undefined): TlsCode | undefined {
  if (EXPIRED.has(error ?? "")) return "TLS_CERT_EXPIRED";
  return UNTRUSTED.has(error ?? "") ? "TLS_UNTRUSTED_CERT" : undefined;
}

export function tlsCode(
  o: Pick<
    TlsObservation,
    "handshakeCompleted" | "timedOut" | "authorizationError" | "hostnameError" | "errorCode"
  >,
): TlsCode {
  if (o.timedOut) return "TLS_TIMEOUT";
  if (!o.handshakeCompleted) return certCode(o.errorCode) ?? "TLS_HANDSHAKE_FAILED";
  if (o.authorizationError) return certCode(o.authorizationError) ?? "TLS_UNTRUSTED_CERT";
  if (o.hostnameError) return "TLS_HOSTNAME_MISMATCH";
  return "TLS_OK";
}

export function classifyTls(
  o: TlsObservation,
  address: string,
  before: Timings,
  insecure: boolean,
  now: Date = new Date(),
): TlsFinding {
  const code = tlsCode(o);
  const cert = o.certificate;
  const timings = { ...before, tls: o.tlsMs, total: sum(before.total, o.tlsMs) };
  const evidence: TlsEvidence = {
    servername: o.servername,
    protocol: o.protocol,
    cipher: o.cipher,
    alpn: o.alpn,
    issuer: cert?.issuer,
    subject: cert?.subject,
    subjectAltName: cert?.subjectAltName,
    validFrom: cert?.validFrom,
    validTo: cert?.validTo,
    fingerprint256: cert?.fingerprint256,
    authorizationError: o.authorizationError,
    hostnameError: o.hostnameError,
    errorCode: o.errorCode,
    localTime: code === "TLS_CERT_EXPIRED" ? now.toISOString() : undefined,
  };
  const message = tlsMessage(code, o, now);
  if (insecure && CERT_PROBLEMS.has(code)) {
    // --insecure: the failure is still reported as evidence, but the path goes on.
    evidence.insecureIgnored = code;
    return {
      ...finding("TLS_OK", `${message} (ignored: --insecure)`, evidence, timings, { address }),
      status: "warn",
    };
  }
  return finding(code, message, evidence, timings, { address });
}

/**
 * The extra handshake limited to TLS 1.2, after `negotiated` (TLS 1.3) worked on the same address:
 * TLS_12_REFUSED when the server ended it, nothing when it completed. A timeout or a cancelled
 * run says nothing about the protocol policy: no finding either.
 */
export function classifyTls12(
  o: TlsObservation,
  address: string,
  before: Timings,
  negotiated: string,
): TlsFinding | null {
  if (o.handshakeCompleted || o.timedOut || o.cancelled) return null;
  const evidence: TlsEvidence = {
    servername: o.servername,
    protocol: negotiated,
    errorCode: o.errorCode,
    protocols: { [negotiated]: "accepted", "TLSv1.2": "refused" },
  };
  const timings = { ...before, tls: o.tlsMs, total: sum(before.total, o.tlsMs) };
  // The code alone: OpenSSL's message carries its source path, noise in a report.
  const message = `${tlsMessage("TLS_12_REFUSED", o, new Date())} (${o.errorCode ?? "?"})`;
  return finding("TLS_12_REFUSED", message, evidence, timings, { address });
}

function tlsMessage(code: TlsCode, o: TlsObservation, now: Date): string {
  const cert = o.certificate;
  switch (code) {
    case "TLS_OK":
      return `${o.protocol ?? "TLS"} with ${o.servername}, issuer ${cert?.issuer ?? "?"}, expires ${cert?.validTo ?? "?"}`;
    case "TLS_TIMEOUT":
      return `TCP is up but the TLS handshake did not complete within ${Math.round(o.tlsMs)} ms`;
    case "TLS_CERT_EXPIRED": {
      const why = o.authorizationError ?? o.errorCode;
      const state = why === "CERT_NOT_YET_VALID" ? "not yet valid" : "expired";
      return `certificate ${state} (${why}): valid from ${cert?.validFrom ?? "?"} to ${cert?.validTo ?? "?"}; this host's clock says ${now.toISOString()}`;
    }
    case "TLS_UNTRUSTED_CERT":
      return `certificate not trusted (${o.authorizationError ?? o.errorCode}), issued by ${cert?.issuer ?? "?"}`;
    case "TLS_HOSTNAME_MISMATCH":
      return `certificate (${cert?.subjectAltName ?? cert?.subject ?? "?"}) does not cover ${o.servername}`;
    case "TLS_12_REFUSED":
      return `TLS 1.3 works with ${o.servername}, a handshake limited to TLS 1.2 is refused`;
    case "TLS_HANDSHAKE_FAILED":
      return `handshake failed: ${o.errorCode ?? "?"}${o.errorMessage ? ` (${o.errorMessage})` : ""}`;
  }
}

// ---- http ------------------------------------------------------------------------------

/** What one HTTP rule looks at: the status, API Gateway's error type and its message. */
interface Answer {
  status: number;
  /** `x-amzn-ErrorType` without its `:detail` suffix. */
  errorType: string;
  /** `message`/`Message`, lower-cased. */
  message: string;
}

/**
 * One rule: it applies to the statuses `status` accepts; it matches on the error type when
 * `types` names it (and then, if `phrases` is given, only if the message also has one), else on
 * a phrase of the message alone. A rule with neither matches every answer of its statuses.
 */
interface HttpRule {
  code: HttpCode;
  status: (s: number) => boolean;
  types?: string[];
  phrases?: string[];
}

const is403 = (s: number) => s === 403;
// API Gateway lets every gateway response's status be changed (MISSING_AUTHENTICATION_TOKEN
// answered as 404, a customized DEFAULT_4XX), and keeps x-amzn-ErrorType: the error type decides
// at any 4xx. The body's phrases alone only at 403: without the error type, a 4xx body may be
// the integration's own, which can say anything.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
const is4xx = (s: number) => s >= 400 && s < 500;

// Both IAM-auth methods and an Authorization header sent to a resource that does not exist are
// refused as SigV4 errors: these are signature refusals, whatever error type carries them.
const SIGNATURE_TYPES = [
  "IncompleteSignatureException",
  "InvalidSignatureException",
  "UnrecognizedClientException",
  "ExpiredTokenException",
];
const SIGNATURE_PHRASES = [
  "signature expired",
  "security token included in the request is invalid",
  "security token included in the request is expired",
  "signature we calculated does not match",
  "authorization header requires",
  "not a valid key=value pair",
  "invalid key=value pair",
  "credential should be scoped",
];
// A Lambda or Cognito authorizer's Deny; the resource-policy message says "not authorized to
// perform", this one "not authorized to access this resource".
const AUTHORIZER_PHRASES = ["user is not authorized to access this resource"];
const ACCESS_DENIED = ["AccessDeniedException"];

/** In order: the first rule that matches decides. 5xx first, so no phrase can claim it. */
const HTTP_RULES: HttpRule[] = [
  { code: "HTTP_BACKEND_ERROR", status: (s) => s >= 500 && s < 600 },
  // The error type, at any 4xx.
  { code: "HTTP_SIGNATURE_INVALID", status: is4xx, types: SIGNATURE_TYPES },
  {
    code: "HTTP_SIGNATURE_INVALID",
    status: is4xx,
    types: ACCESS_DENIED,
    phrases: SIGNATURE_PHRASES,
  },
  {
    code: "HTTP_AUTHORIZER_DENY",
    status: is4xx,
    types: ACCESS_DENIED,
    phrases: AUTHORIZER_PHRASES,
  },
  { code: "HTTP_POLICY_DENY", status: is4xx, types: ACCESS_DENIED, phrases: ["explicit deny"] },
  { code: "HTTP_POLICY_NO_ALLOW", status: is4xx, types: ACCESS_DENIED },
  {
    code: "HTTP_MISSING_AUTH_TOKEN",
    status: is4xx,
    types: ["MissingAuthenticationTokenException"],
  },
  { code: "HTTP_FORBIDDEN", status: is4xx, types: ["ForbiddenException"] },
  { code: "HTTP_UNAUTHORIZED", status: is4xx, types: ["UnauthorizedException"] },
  {
    code: "HTTP_THROTTLED",
    status: is4xx,
    types: ["TooManyRequestsException", "LimitExceededException"],
  },
  // The status alone, where the error type names nothing above.
  { code: "HTTP_THROTTLED", status: (s) => s === 429 },
  { code: "HTTP_UNAUTHORIZED", status: (s) => s === 401 },
  // Without a known error type (customized or stripped responses), the message alone, at 403.
  { code: "HTTP_SIGNATURE_INVALID", status: is403, phrases: SIGNATURE_PHRASES },
  { code: "HTTP_AUTHORIZER_DENY", status: is403, phrases: AUTHORIZER_PHRASES },
  { code: "HTTP_POLICY_DENY", status: is403, phrases: ["with an explicit deny"] },
  { code: "HTTP_POLICY_NO_ALLOW", status: is403, phrases: ["is not authorized to perform"] },
  { code: "HTTP_MISSING_AUTH_TOKEN", status: is403, phrases: ["missing authentication token"] },
  { code: "HTTP_FORBIDDEN", status: is403, phrases: ["forbidden"] },
];

function byErrorType(rule: HttpRule, a: Answer): boolean {
  if (!rule.types) return !rule.phrases; // a rule of status alone
  if (!rule.types.includes(a.errorType)) return false;
  return !rule.phrases || rule.phrases.some((p) => a.message.includes(p));
}

const byPhrase = (rule: HttpRule, a: Answer): boolean =>
  !rule.types && !!rule.phrases && rule.phrases.some((p) => a.message.includes(p));

/** The error type first, then the message's phrases; a 403 nothing names is still Forbidden. */
export function answerCode(a: Answer): HttpCode {
  const rules = HTTP_RULES.filter((r) => r.status(a.status));
  const hit = rules.find((r) => byErrorType(r, a)) ?? rules.find((r) => byPhrase(r, a));
  if (hit) return hit.code;
  return a.status === 403 ? "HTTP_FORBIDDEN" : "HTTP_UNEXPECTED_STATUS";
}

/**
 * The policy an AccessDenied message names, as IAM words it ("with an explicit deny in a
 * service control policy", "because no resource-based policy allows ..."). The most specific
 * names first: "resource control policy" is not "resource-based policy".
 */
const POLICY_NAMES: [string, Exclude<PolicyType, "unknown">][] = [
  ["vpc endpoint policy", "vpc-endpoint"],
  ["service control polic", "scp"],
  ["resource control polic", "rcp"],
  ["permissions boundar", "permissions-boundary"],
  ["session polic", "session"],
  ["resource-based polic", "resource"],
  ["identity-based polic", "identity"],
];

/** The policy an AccessDenied message names, as AWS words it. */
export function policyTypeOf(message: string): PolicyType {
  const m = message.toLowerCase();
  return POLICY_NAMES.find(([phrase]) => m.includes(phrase))?.[1] ?? "unknown";
}

const POLICY_CODES = new Set<HttpCode>([
  "HTTP_POLICY_DENY",
  "HTTP_POLICY_NO_ALLOW",
  "HTTP_AUTHORIZER_DENY",
]);

const API_GATEWAY_HEADERS = ["x-amzn-requestid", "x-amz-apigw-id", "x-amzn-errortype"];
/** Long enough for the ARN (stage, method, path) and the policy the message names. */
const MESSAGE_MAX = 512;

/** API Gateway's error message: `message` or `Message` of a JSON body, else the raw text. */
export function errorMessage(body: string | undefined): string {
  if (!body) return "";
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object") {
      const fields = parsed as Record<string, unknown>;
      const m = fields.message ?? fields.Message;
      if (typeof m === "string") return m.slice(0, MESSAGE_MAX);
    }
  } catch {
    // not JSON: customized responses may be anything; match on the text itself
  }
  return body.slice(0, MESSAGE_MAX);
}

export function httpCode(o: HttpObservation, expectStatus: number[]): HttpCode {
  // A body that stalls after the headers is the MTU black hole's signature: still a timeout.
  if (o.timedOut) return "HTTP_TIMEOUT";
  if (o.status === undefined) {
    // Bytes that are not HTTP at all: something other than API Gateway answered.
    const notHttp = o.errorCode?.startsWith("HPE_") || o.errorCode === "HTTPParserError";
    if (notHttp) return "HTTP_NOT_API_GATEWAY";
    return o.connectionLost ? "HTTP_RESET" : "HTTP_UNEXPECTED_STATUS";
  }
  const headers = o.headers ?? {};
  // Whoever sends it, a 421 says the front end refuses this SNI/Host pair (STRICT access mode,
  // domain-fronting protection): decided before asking whether API Gateway sent it.
  if (o.status === 421 && !expectStatus.includes(421)) return "HTTP_MISDIRECTED";
  const fromApiGateway = API_GATEWAY_HEADERS.some((h) => headers[h] !== undefined);
  if (!fromApiGateway) return "HTTP_NOT_API_GATEWAY";
  const expected = expectStatus.length
    ? expectStatus.includes(o.status)
    : o.status >= 200 && o.status < 300;
  // OK means the whole answer arrived: a body cut off by the peer is not a working path.
  if (expected) return o.bodyIncomplete ? "HTTP_UNEXPECTED_STATUS" : "HTTP_OK";
  return answerCode({
    status: o.status,
    errorType: (headers["x-amzn-errortype"] ?? "").split(":")[0]?.trim() ?? "",
    message: errorMessage(o.body).toLowerCase(),
  });
}

/** How the request went out: what an AWS support case asks for besides the request ids. */
export interface SentRequest {
  /** UTC, ISO 8601. */
  requestedAt: string;
  sni: string;
  host: string;
  tlsVersion?: string;
  tlsCipher?: string;
}

export function classifyHttp(
  o: HttpObservation,
  at: { address: string; stage: string; path: string },
  before: Timings,
  expectStatus: number[],
  sent?: SentRequest,
  ctx: HintContext = {},
): HttpFinding {
  const code = httpCode(o, expectStatus);
  const h = o.headers ?? {};
  const message = errorMessage(o.body);
  const policyType = POLICY_CODES.has(code) ? policyTypeOf(message) : undefined;
  const evidence: HttpEvidence = {
    request: `GET ${at.path}`,
    status: o.status,
    requestId: h["x-amzn-requestid"],
    apigwId: h["x-amz-apigw-id"],
    errorType: h["x-amzn-errortype"],
    server: h["server"],
    errorMessage: message || undefined,
    policyType,
    body: o.body?.slice(0, MESSAGE_MAX),
    bodyBytes: o.bodyBytes,
    bodyTruncated: o.bodyTruncated || undefined,
    bodyIncomplete: o.bodyIncomplete || undefined,
    errorCode: o.errorCode,
    connectionLost: o.connectionLost,
    ...(code !== "HTTP_OK" && sent ? sent : {}),
  };
  const timings = { ...before, ttfb: o.ttfbMs, total: sum(before.total, o.totalMs) };
  const made = finding(code, `GET ${at.path} -> ${httpWhat(o, message)}`, evidence, timings, {
    address: at.address,
    stage: at.stage,
  });
  const errorType = (h["x-amzn-errortype"] ?? "").split(":")[0]?.trim() ?? "";
  return {
    ...made,
    hint: httpHint(code, { status: o.status, errorType, message, policyType }, ctx),
  };
}

/** What a hint may depend on besides the evidence: how the API was called. */
export interface HintContext {
  mode?: AccessMode;
}

/** The hint for an http code, from what the answer said (DESIGN: the code table). */
export function httpHint(
  code: HttpCode,
  a: { status?: number; errorType: string; message: string; policyType?: PolicyType },
  ctx: HintContext = {},
): string {
  if (a.policyType) return policyHint(code, a.policyType, ctx);
  switch (code) {
    case "HTTP_FORBIDDEN":
      return forbiddenHint(ctx.mode);
    case "HTTP_BACKEND_ERROR":
      return backendHint(a.errorType, a.message);
    case "HTTP_THROTTLED":
    case "HTTP_UNEXPECTED_STATUS":
      return messageHint(code, a.status, a.message);
    default:
      return HINTS[code];
  }
}

function httpWhat(o: HttpObservation, message: string): string {
  if (o.status !== undefined)
    return `${o.status}${message ? ` ${JSON.stringify(message)}` : ""}${bodyNote(o)}`;
  if (o.timedOut) return `no response within ${Math.round(o.totalMs)} ms`;
  if (o.connectionLost)
    return `connection ${o.connectionLost === "reset" ? "reset" : "closed"} by the peer after the request, no status (${o.errorCode ?? "?"})`;
  return `${o.errorCode ?? "error"}: ${o.errorMessage ?? ""}`;
}

function bodyNote(o: HttpObservation): string {
  if (o.bodyTruncated) return ` (body truncated: read the first ${o.bodyBytes ?? 0} bytes only)`;
  if (!o.bodyIncomplete) return "";
  return o.timedOut
    ? ` (body stalled after ${o.bodyBytes ?? 0} bytes: no more within ${Math.round(o.totalMs)} ms)`
    : ` (body cut off after ${o.bodyBytes ?? 0} bytes: ${o.errorCode ?? "connection closed"})`;
}
