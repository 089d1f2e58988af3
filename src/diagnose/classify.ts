// The one place where evidence becomes a finding code and a hint: pure functions of data.
import type { DnsObservation } from "../probes/dns.js";
import type { HttpObservation } from "../probes/http.js";
import type { OsLookupObservation } from "../probes/os-resolver.js";
import type { TcpObservation } from "../probes/tcp.js";
import type { TlsObservation } from "../probes/tls.js";
import type { Evidence, Finding, FindingCode, Layer, Timings } from "../types.js";
import { isPrivate, type AddressRange } from "./addresses.js";
import { HINTS } from "./hints.js";

const LAYER: Record<string, Layer> = { DNS: "dns", TCP: "tcp", TLS: "tls", HTTP: "http" };
const PASS = new Set<FindingCode>(["DNS_OK", "TCP_OK", "TLS_OK", "HTTP_OK"]);

export function finding(
  code: FindingCode,
  message: string,
  evidence: Evidence,
  timings: Timings,
  where: { address?: string; stage?: string } = {},
): Finding {
  const layer = LAYER[code.split("_")[0] ?? ""] ?? "http";
  const status = PASS.has(code) ? "pass" : code === "DNS_OS_MISMATCH" ? "warn" : "fail";
  return { layer, code, status, ...where, timings, message, hint: HINTS[code], evidence };
}

// ---- dns -------------------------------------------------------------------------------

/** Most specific first: the first failure found in this order names the resolver's problem. */
const DNS_FAILURE_ORDER: [FindingCode, (o: DnsObservation) => boolean][] = [
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
export function classifyDns(observations: DnsObservation[], ranges: AddressRange[]): Finding {
  const first = observations[0];
  const resolver = first?.resolver ?? "?";
  const name = first?.name ?? "?";
  const addresses = [...new Set(observations.flatMap((o) => o.addresses))];
  const timings = {
    dns: Math.max(0, ...observations.map((o) => o.durationMs)),
    total: Math.max(0, ...observations.map((o) => o.durationMs)),
  };
  const evidence: Evidence = { resolver, name, addresses, queries: observations };
  if (addresses.length === 0) {
    for (const [code, test] of DNS_FAILURE_ORDER) {
      const hit = observations.find(test);
      if (hit) return finding(code, dnsMessage(code, hit), evidence, timings);
    }
    return finding("DNS_NODATA", `${resolver}: no address for ${name}`, evidence, timings);
  }
  const publicOnes = addresses.filter((a) => !isPrivate(a, ranges));
  if (publicOnes.length > 0) {
    return finding(
      "DNS_PUBLIC_ADDRESS",
      `${resolver} answered non-private ${publicOnes.join(", ")} for ${name}`,
      { ...evidence, public: publicOnes },
      timings,
    );
  }
  const omitted = observations.reduce((n, o) => n + (o.addressesOmitted ?? 0), 0);
  const more = omitted ? ` (and ${omitted} more, not tried)` : "";
  return finding(
    "DNS_OK",
    `${resolver}: ${name} -> ${addresses.join(", ")}${more}`,
    evidence,
    timings,
  );
}

function dnsMessage(code: FindingCode, o: DnsObservation): string {
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

export function classifyOsLookup(os: OsLookupObservation, dnsAddresses: string[]): Finding | null {
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

const ERRNO_CODE: Record<string, FindingCode> = {
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

export function tcpCode(o: Pick<TcpObservation, "connected" | "timedOut" | "errno">): FindingCode {
  if (o.connected) return "TCP_OK";
  if (o.timedOut) return "TCP_TIMEOUT";
  return ERRNO_CODE[o.errno ?? ""] ?? "TCP_UNREACHABLE";
}

export function classifyTcp(o: TcpObservation, dnsMs: number): Finding {
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
    { dns: dnsMs, connect: o.connectMs, total: dnsMs + o.connectMs },
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
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_SIGNATURE_FAILURE",
  "NO_CERTIFICATE",
]);

export function tlsCode(
  o: Pick<
    TlsObservation,
    "handshakeCompleted" | "timedOut" | "authorizationError" | "hostnameError" | "errorCode"
  >,
): FindingCode {
  if (o.timedOut) return "TLS_TIMEOUT";
  if (!o.handshakeCompleted)
    return UNTRUSTED.has(o.errorCode ?? "") ? "TLS_UNTRUSTED_CERT" : "TLS_HANDSHAKE_FAILED";
  if (o.authorizationError) return "TLS_UNTRUSTED_CERT";
  if (o.hostnameError) return "TLS_HOSTNAME_MISMATCH";
  return "TLS_OK";
}

export function classifyTls(
  o: TlsObservation,
  address: string,
  before: Timings,
  insecure: boolean,
): Finding {
  let code = tlsCode(o);
  const cert = o.certificate;
  const timings = { ...before, tls: o.tlsMs, total: before.total + o.tlsMs };
  const evidence: Evidence = {
    servername: o.servername,
    protocol: o.protocol,
    cipher: o.cipher,
    alpn: o.alpn,
    issuer: cert?.issuer,
    subject: cert?.subject,
    subjectAltName: cert?.subjectAltName,
    validTo: cert?.validTo,
    fingerprint256: cert?.fingerprint256,
    authorizationError: o.authorizationError,
    hostnameError: o.hostnameError,
    errorCode: o.errorCode,
  };
  const messages: Partial<Record<FindingCode, string>> = {
    TLS_OK: `${o.protocol ?? "TLS"} with ${o.servername}, issuer ${cert?.issuer ?? "?"}, expires ${cert?.validTo ?? "?"}`,
    TLS_TIMEOUT: `TCP is up but the TLS handshake did not complete within ${Math.round(o.tlsMs)} ms`,
    TLS_UNTRUSTED_CERT: `certificate not trusted (${o.authorizationError ?? o.errorCode}), issued by ${cert?.issuer ?? "?"}`,
    TLS_HOSTNAME_MISMATCH: `certificate (${cert?.subjectAltName ?? cert?.subject ?? "?"}) does not cover ${o.servername}`,
    TLS_HANDSHAKE_FAILED: `handshake failed: ${o.errorCode ?? "?"}${o.errorMessage ? ` (${o.errorMessage})` : ""}`,
  };
  const message = messages[code] ?? code;
  if (insecure && (code === "TLS_UNTRUSTED_CERT" || code === "TLS_HOSTNAME_MISMATCH")) {
    // --insecure: the failure is still reported as evidence, but the path goes on.
    evidence.insecureIgnored = code;
    code = "TLS_OK";
    return {
      ...finding(code, `${message} (ignored: --insecure)`, evidence, timings, { address }),
      status: "warn",
    };
  }
  return finding(code, message, evidence, timings, { address });
}

// ---- http ------------------------------------------------------------------------------

const ERROR_TYPE_CODE: Record<string, FindingCode> = {
  ForbiddenException: "HTTP_FORBIDDEN",
  MissingAuthenticationTokenException: "HTTP_MISSING_AUTH_TOKEN",
  IncompleteSignatureException: "HTTP_MISSING_AUTH_TOKEN",
  UnauthorizedException: "HTTP_UNAUTHORIZED",
  TooManyRequestsException: "HTTP_THROTTLED",
  LimitExceededException: "HTTP_THROTTLED",
};

const BODY_PHRASES: [string, FindingCode][] = [
  ["with an explicit deny", "HTTP_POLICY_DENY"],
  ["is not authorized to perform", "HTTP_POLICY_NO_ALLOW"],
  ["missing authentication token", "HTTP_MISSING_AUTH_TOKEN"],
  ["forbidden", "HTTP_FORBIDDEN"],
  ["unauthorized", "HTTP_UNAUTHORIZED"],
  ["too many requests", "HTTP_THROTTLED"],
];

const API_GATEWAY_HEADERS = ["x-amzn-requestid", "x-amz-apigw-id", "x-amzn-errortype"];

/** API Gateway's error message: `message` or `Message` of a JSON body, else the raw text. */
export function errorMessage(body: string | undefined): string {
  if (!body) return "";
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object") {
      const m =
        (parsed as Record<string, unknown>).message ?? (parsed as Record<string, unknown>).Message;
      if (typeof m === "string") return m;
    }
  } catch {
    // not JSON: customized responses may be anything; match on the text itself
  }
  return body.slice(0, 512);
}

export function httpCode(o: HttpObservation, expectStatus: number[]): FindingCode {
  // A body that stalls after the headers is the MTU black hole's signature: still a timeout.
  if (o.timedOut) return "HTTP_TIMEOUT";
  if (o.status === undefined) {
    // Bytes that are not HTTP at all: something other than API Gateway answered.
    const notHttp = o.errorCode?.startsWith("HPE_") || o.errorCode === "HTTPParserError";
    return notHttp ? "HTTP_NOT_API_GATEWAY" : "HTTP_UNEXPECTED_STATUS";
  }
  const headers = o.headers ?? {};
  const fromApiGateway = API_GATEWAY_HEADERS.some((h) => headers[h] !== undefined);
  if (!fromApiGateway) return "HTTP_NOT_API_GATEWAY";
  const expected = expectStatus.length
    ? expectStatus.includes(o.status)
    : o.status >= 200 && o.status < 300;
  // OK means the whole answer arrived: a body cut off by the peer is not a working path.
  if (expected) return o.bodyIncomplete ? "HTTP_UNEXPECTED_STATUS" : "HTTP_OK";
  const message = errorMessage(o.body).toLowerCase();
  const errorType = (headers["x-amzn-errortype"] ?? "").split(":")[0]?.trim() ?? "";
  if (errorType === "AccessDeniedException") {
    return message.includes("explicit deny") ? "HTTP_POLICY_DENY" : "HTTP_POLICY_NO_ALLOW";
  }
  const byType = ERROR_TYPE_CODE[errorType];
  if (byType) return byType;
  const byPhrase = BODY_PHRASES.find(([phrase]) => message.includes(phrase));
  if (byPhrase) return byPhrase[1];
  if (o.status === 401) return "HTTP_UNAUTHORIZED";
  if (o.status === 429) return "HTTP_THROTTLED";
  if (o.status >= 500) return "HTTP_BACKEND_ERROR";
  return "HTTP_UNEXPECTED_STATUS";
}

export function classifyHttp(
  o: HttpObservation,
  at: { address: string; stage: string; path: string },
  before: Timings,
  expectStatus: number[],
): Finding {
  const code = httpCode(o, expectStatus);
  const h = o.headers ?? {};
  const evidence: Evidence = {
    request: `GET ${at.path}`,
    status: o.status,
    requestId: h["x-amzn-requestid"],
    apigwId: h["x-amz-apigw-id"],
    errorType: h["x-amzn-errortype"],
    server: h["server"],
    body: o.body?.slice(0, 512),
    bodyBytes: o.bodyBytes,
    bodyTruncated: o.bodyTruncated || undefined,
    bodyIncomplete: o.bodyIncomplete || undefined,
    errorCode: o.errorCode,
  };
  const what =
    o.status !== undefined
      ? `${o.status}${errorMessage(o.body) ? ` ${JSON.stringify(errorMessage(o.body).slice(0, 120))}` : ""}${bodyNote(o)}`
      : o.timedOut
        ? `no response within ${Math.round(o.totalMs)} ms`
        : `${o.errorCode ?? "error"}: ${o.errorMessage ?? ""}`;
  const timings = { ...before, ttfb: o.ttfbMs, total: before.total + o.totalMs };
  return finding(code, `GET ${at.path} -> ${what}`, evidence, timings, {
    address: at.address,
    stage: at.stage,
  });
}

function bodyNote(o: HttpObservation): string {
  if (o.bodyTruncated) return ` (body truncated: read the first ${o.bodyBytes ?? 0} bytes only)`;
  if (!o.bodyIncomplete) return "";
  return o.timedOut
    ? ` (body stalled after ${o.bodyBytes ?? 0} bytes: no more within ${Math.round(o.totalMs)} ms)`
    : ` (body cut off after ${o.bodyBytes ?? 0} bytes: ${o.errorCode ?? "connection closed"})`;
}
