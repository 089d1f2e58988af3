import { describe, expect, it } from "vitest";
import { privateRanges } from "../../src/config/ranges.js";
import {
  classifyDns,
  classifyHttp,
  classifyOsLookup,
  errorMessage,
  httpCode,
  nameKind,
  policyTypeOf,
  tcpCode,
  tlsCode,
} from "../../src/diagnose/classify.js";
import type { DnsObservation } from "../../src/probes/dns.js";
import type { HttpObservation } from "../../src/probes/http.js";
import type { FindingCode } from "../../src/types.js";

const APIGW = {
  "x-amzn-requestid": "11111111-2222-3333-4444-555555555555",
  "x-amz-apigw-id": "abc=",
};
const resp = (
  status: number,
  body: string,
  headers: Record<string, string> = {},
): HttpObservation => ({
  requestSent: true,
  timedOut: false,
  status,
  body,
  headers: { ...APIGW, ...headers },
  totalMs: 1,
});
const ARN = "arn:aws:execute-api:us-east-1:********1234:a1b2c3d4e5/prod/GET/";
const at = { address: "10.0.1.95", stage: "prod", path: "/prod/" };

describe("httpCode", () => {
  const cases: [string, HttpObservation, FindingCode][] = [
    ["a 200 from API Gateway", resp(200, "{}"), "HTTP_OK"],
    ["a 204", resp(204, ""), "HTTP_OK"],
    [
      "403 Forbidden by error type",
      resp(403, '{"message":"Forbidden"}', { "x-amzn-errortype": "ForbiddenException" }),
      "HTTP_FORBIDDEN",
    ],
    ["403 Forbidden by body alone", resp(403, '{"message":"Forbidden"}'), "HTTP_FORBIDDEN"],
    [
      "a customized Forbidden body keeps the error type",
      resp(403, "<h1>Nope</h1>", { "x-amzn-errortype": "ForbiddenException" }),
      "HTTP_FORBIDDEN",
    ],
    [
      "Missing Authentication Token",
      resp(403, '{"message":"Missing Authentication Token"}', {
        "x-amzn-errortype": "MissingAuthenticationTokenException",
      }),
      "HTTP_MISSING_AUTH_TOKEN",
    ],
    [
      "Missing Authentication Token with a new suffix",
      resp(403, '{"message":"Missing Authentication Token. Check the path."}'),
      "HTTP_MISSING_AUTH_TOKEN",
    ],
    [
      "a malformed signature",
      resp(403, '{"message":"..."}', { "x-amzn-errortype": "IncompleteSignatureException" }),
      "HTTP_SIGNATURE_INVALID",
    ],
    [
      "explicit deny (Message)",
      resp(
        403,
        `{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN} with an explicit deny"}`,
        { "x-amzn-errortype": "AccessDeniedException" },
      ),
      "HTTP_POLICY_DENY",
    ],
    [
      "explicit deny with a suffix AWS added later",
      resp(
        403,
        `{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN} with an explicit deny in a resource-based policy"}`,
      ),
      "HTTP_POLICY_DENY",
    ],
    [
      "no allow",
      resp(
        403,
        `{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN}"}`,
        { "x-amzn-errortype": "AccessDeniedException" },
      ),
      "HTTP_POLICY_NO_ALLOW",
    ],
    [
      "no allow, body only",
      resp(
        403,
        `{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN} because no resource-based policy allows the execute-api:Invoke action"}`,
      ),
      "HTTP_POLICY_NO_ALLOW",
    ],
    [
      "401",
      resp(401, '{"message":"Unauthorized"}', { "x-amzn-errortype": "UnauthorizedException" }),
      "HTTP_UNAUTHORIZED",
    ],
    [
      "429",
      resp(429, '{"message":"Too Many Requests"}', {
        "x-amzn-errortype": "TooManyRequestsException",
      }),
      "HTTP_THROTTLED",
    ],
    [
      "502",
      resp(502, '{"message": "Internal server error"}', {
        "x-amzn-errortype": "InternalServerErrorException",
      }),
      "HTTP_BACKEND_ERROR",
    ],
    [
      "504 without error type",
      resp(504, '{"message": "Endpoint request timed out"}'),
      "HTTP_BACKEND_ERROR",
    ],
    ["a 404 from API Gateway", resp(404, "{}"), "HTTP_UNEXPECTED_STATUS"],
    [
      "a 200 without API Gateway's headers",
      { requestSent: true, timedOut: false, status: 200, headers: {}, body: "ok", totalMs: 1 },
      "HTTP_NOT_API_GATEWAY",
    ],
    [
      "a proxy's 403",
      {
        requestSent: true,
        timedOut: false,
        status: 403,
        headers: { server: "squid" },
        body: "Access denied",
        totalMs: 1,
      },
      "HTTP_NOT_API_GATEWAY",
    ],
    ["no response", { requestSent: true, timedOut: true, totalMs: 5000 }, "HTTP_TIMEOUT"],
    [
      "bytes that are not HTTP",
      { requestSent: true, timedOut: false, errorCode: "HPE_INVALID_CONSTANT", totalMs: 1 },
      "HTTP_NOT_API_GATEWAY",
    ],
    [
      "a reset after the request",
      {
        requestSent: true,
        timedOut: false,
        errorCode: "ECONNRESET",
        connectionLost: "reset",
        totalMs: 1,
      },
      "HTTP_RESET",
    ],
    [
      "a close after the request",
      {
        requestSent: true,
        timedOut: false,
        errorCode: "UND_ERR_SOCKET",
        connectionLost: "closed",
        totalMs: 1,
      },
      "HTTP_RESET",
    ],
    [
      "a failure that is neither a reset nor a close",
      { requestSent: true, timedOut: false, errorCode: "UND_ERR_ABORTED", totalMs: 1 },
      "HTTP_UNEXPECTED_STATUS",
    ],
  ];
  it.each(cases)("classifies %s", (_what, obs, code) => {
    expect(httpCode(obs, [])).toBe(code);
  });

  it("classifies a 5xx before any phrase of its body", () => {
    expect(httpCode(resp(500, '{"message":"Unauthorized"}'), [])).toBe("HTTP_BACKEND_ERROR");
    expect(httpCode(resp(502, "<h1>Forbidden</h1>"), [])).toBe("HTTP_BACKEND_ERROR");
    expect(httpCode(resp(503, "{}", { "x-amzn-errortype": "AccessDeniedException" }), [])).toBe(
      "HTTP_BACKEND_ERROR",
    );
  });

  it("applies 403 phrases to 403 answers only", () => {
    expect(httpCode(resp(404, '{"message":"Forbidden"}'), [])).toBe("HTTP_UNEXPECTED_STATUS");
    expect(httpCode(resp(400, '{"message":"Missing Authentication Token"}'), [])).toBe(
      "HTTP_UNEXPECTED_STATUS",
    );
    expect(httpCode(resp(403, "<html>blocked</html>"), [])).toBe("HTTP_FORBIDDEN");
  });

  it("does not blame the resource policy for an authorizer's Deny", () => {
    const denied = { "x-amzn-errortype": "AccessDeniedException" };
    for (const message of [
      "User is not authorized to access this resource",
      "User is not authorized to access this resource with an explicit deny",
      "User is not authorized to access this resource with an explicit deny in an identity-based policy",
    ])
      expect(httpCode(resp(403, JSON.stringify({ Message: message }), denied), [])).toBe(
        "HTTP_AUTHORIZER_DENY",
      );
  });

  it("reads a refused signature or token as HTTP_SIGNATURE_INVALID whatever type carries it", () => {
    const cases: [string, string][] = [
      ["AccessDeniedException", "The security token included in the request is invalid."],
      ["InvalidSignatureException", "Signature expired: 20240101T000000Z is now earlier than ..."],
      ["", "Signature expired: 20240101T000000Z is now earlier than ..."],
      ["UnrecognizedClientException", "The security token included in the request is invalid."],
    ];
    for (const [type, message] of cases)
      expect(
        httpCode(
          resp(403, JSON.stringify({ message }), type ? { "x-amzn-errortype": type } : {}),
          [],
        ),
      ).toBe("HTTP_SIGNATURE_INVALID");
  });

  it("takes the error type before the message", () => {
    const forbidden = { "x-amzn-errortype": "ForbiddenException" };
    expect(httpCode(resp(403, '{"message":"Missing Authentication Token"}', forbidden), [])).toBe(
      "HTTP_FORBIDDEN",
    );
    const typed = { "x-amzn-errortype": "MissingAuthenticationTokenException:http://x" };
    expect(httpCode(resp(403, '{"message":"Forbidden"}', typed), [])).toBe(
      "HTTP_MISSING_AUTH_TOKEN",
    );
  });

  it("uses the configured expected statuses instead of 2xx", () => {
    expect(httpCode(resp(404, "{}"), [404])).toBe("HTTP_OK");
    expect(httpCode(resp(200, "{}"), [201])).toBe("HTTP_UNEXPECTED_STATUS");
  });
});

describe("policyTypeOf", () => {
  it("names the policy the AccessDenied message names", () => {
    const user = `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN}`;
    expect(
      policyTypeOf(`${user} because no resource-based policy allows the execute-api:Invoke action`),
    ).toBe("resource");
    expect(policyTypeOf(`${user} with an explicit deny in a resource-based policy`)).toBe(
      "resource",
    );
    expect(policyTypeOf(`${user} with an explicit deny in a VPC endpoint policy`)).toBe(
      "vpc-endpoint",
    );
    expect(
      policyTypeOf(`${user} because no VPC endpoint policy allows the execute-api:Invoke action`),
    ).toBe("vpc-endpoint");
    expect(policyTypeOf(`${user} with an explicit deny in an identity-based policy`)).toBe(
      "identity",
    );
    expect(policyTypeOf(`${user} with an explicit deny`)).toBe("unknown");
    expect(policyTypeOf(user)).toBe("unknown");
  });
});

describe("errorMessage", () => {
  it("reads message or Message and falls back to the raw text", () => {
    expect(errorMessage('{"message":"Forbidden"}')).toBe("Forbidden");
    expect(errorMessage('{"Message":"User: x"}')).toBe("User: x");
    expect(errorMessage("not json")).toBe("not json");
    expect(errorMessage('{"message": 3}')).toBe('{"message": 3}');
    expect(errorMessage(undefined)).toBe("");
  });
});

describe("tcpCode", () => {
  const cases: [Partial<{ connected: boolean; timedOut: boolean; errno: string }>, FindingCode][] =
    [
      [{ connected: true }, "TCP_OK"],
      [{ timedOut: true }, "TCP_TIMEOUT"],
      [{ errno: "ETIMEDOUT" }, "TCP_TIMEOUT"],
      [{ errno: "ECONNREFUSED" }, "TCP_REFUSED"],
      [{ errno: "ECONNRESET" }, "TCP_REFUSED"],
      [{ errno: "EHOSTUNREACH" }, "TCP_UNREACHABLE"],
      [{ errno: "ENETUNREACH" }, "TCP_UNREACHABLE"],
    ];
  it.each(cases)("classifies %j as %s", (obs, code) => {
    expect(tcpCode({ connected: false, timedOut: false, ...obs })).toBe(code);
  });
});

describe("tlsCode", () => {
  const base = { handshakeCompleted: true, timedOut: false };
  it("classifies each handshake outcome", () => {
    expect(tlsCode(base)).toBe("TLS_OK");
    expect(tlsCode({ ...base, handshakeCompleted: false, timedOut: true })).toBe("TLS_TIMEOUT");
    expect(tlsCode({ ...base, authorizationError: "SELF_SIGNED_CERT_IN_CHAIN" })).toBe(
      "TLS_UNTRUSTED_CERT",
    );
    expect(tlsCode({ ...base, authorizationError: "CERT_HAS_EXPIRED" })).toBe("TLS_CERT_EXPIRED");
    expect(tlsCode({ ...base, authorizationError: "CERT_NOT_YET_VALID" })).toBe("TLS_CERT_EXPIRED");
    expect(tlsCode({ ...base, handshakeCompleted: false, errorCode: "CERT_HAS_EXPIRED" })).toBe(
      "TLS_CERT_EXPIRED",
    );
    expect(tlsCode({ ...base, hostnameError: "ERR_TLS_CERT_ALTNAME_INVALID" })).toBe(
      "TLS_HOSTNAME_MISMATCH",
    );
    expect(tlsCode({ ...base, handshakeCompleted: false, errorCode: "ECONNRESET" })).toBe(
      "TLS_HANDSHAKE_FAILED",
    );
    expect(
      tlsCode({
        ...base,
        handshakeCompleted: false,
        errorCode: "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
      }),
    ).toBe("TLS_HANDSHAKE_FAILED");
  });
});

describe("classifyDns", () => {
  const ranges = privateRanges(["100.64.0.0/10"]);
  const obs = (over: Partial<DnsObservation>): DnsObservation => ({
    resolver: "10.0.0.2:53",
    name: "vpce-1-a.execute-api.us-east-1.vpce.amazonaws.com",
    type: "A",
    truncated: false,
    rcode: "NOERROR",
    addresses: [],
    cnames: [],
    foreignAnswers: 0,
    durationMs: 3,
    ...over,
  });
  const cases: [string, DnsObservation[], FindingCode][] = [
    [
      "RFC 1918 answers",
      [obs({ addresses: ["10.1.2.3", "172.16.0.9"] }), obs({ type: "AAAA" })],
      "DNS_OK",
    ],
    ["an extra CIDR from config", [obs({ addresses: ["100.64.1.1"] })], "DNS_OK"],
    [
      "a public answer among private ones",
      [obs({ addresses: ["10.1.2.3", "52.94.133.131"] })],
      "DNS_PUBLIC_ADDRESS",
    ],
    [
      "NXDOMAIN",
      [obs({ rcode: "NXDOMAIN" }), obs({ type: "AAAA", rcode: "NXDOMAIN" })],
      "DNS_NXDOMAIN",
    ],
    ["no records", [obs({}), obs({ type: "AAAA" })], "DNS_NODATA"],
    ["SERVFAIL", [obs({ rcode: "SERVFAIL" })], "DNS_SERVFAIL"],
    ["REFUSED", [obs({ rcode: "REFUSED" })], "DNS_REFUSED"],
    ["silence", [obs({ rcode: undefined, error: "timeout" })], "DNS_TIMEOUT"],
    ["garbage", [obs({ rcode: undefined, error: "malformed" })], "DNS_MALFORMED"],
    [
      "a reply to another question",
      [obs({ rcode: undefined, error: "mismatch" })],
      "DNS_MALFORMED",
    ],
    [
      "A works while AAAA times out",
      [obs({ addresses: ["10.1.2.3"] }), obs({ type: "AAAA", rcode: undefined, error: "timeout" })],
      "DNS_OK",
    ],
    ["IPv6 unique local", [obs({ type: "AAAA", addresses: ["fd00::1"] })], "DNS_OK"],
    ["IPv6 global", [obs({ type: "AAAA", addresses: ["2600:1f18::1"] })], "DNS_PUBLIC_ADDRESS"],
  ];
  it.each(cases)("classifies %s", (_what, observations, code) => {
    const f = classifyDns(observations, ranges);
    expect(f.code).toBe(code);
    expect(f.layer).toBe("dns");
    expect(f.status).toBe(code === "DNS_OK" ? "pass" : "fail");
    if (code === "DNS_OK") expect(f.hint).toBe("");
    else expect(f.hint).toMatch(/\w{4}/);
  });
});

describe("classifyOsLookup", () => {
  const os = { name: "n", timedOut: false, durationMs: 1 };
  it("is silent when the OS agrees, in any order", () => {
    expect(
      classifyOsLookup({ ...os, addresses: ["10.0.0.2", "10.0.0.1"] }, ["10.0.0.1", "10.0.0.2"]),
    ).toBeNull();
  });
  it("warns on an override and on an OS failure", () => {
    expect(classifyOsLookup({ ...os, addresses: ["192.168.9.9"] }, ["10.0.0.1"])).toMatchObject({
      code: "DNS_OS_MISMATCH",
      status: "warn",
    });
    expect(
      classifyOsLookup({ ...os, addresses: [], errorCode: "ENOTFOUND" }, ["10.0.0.1"])?.message,
    ).toContain("ENOTFOUND");
  });
});

describe("issue 23: classification", () => {
  const missingToken = { "x-amzn-errortype": "MissingAuthenticationTokenException" };

  it("reads 421 as HTTP_MISDIRECTED whoever sends it", () => {
    expect(httpCode(resp(421, '{"message":"Misdirected Request"}'), [])).toBe("HTTP_MISDIRECTED");
    const bare: HttpObservation = {
      requestSent: true,
      timedOut: false,
      status: 421,
      headers: { server: "CloudFront" },
      body: "<html>421 Misdirected Request</html>",
      totalMs: 1,
    };
    expect(httpCode(bare, [])).toBe("HTTP_MISDIRECTED");
    expect(httpCode(resp(421, "{}"), [421])).toBe("HTTP_OK");
  });

  it("classifies on x-amzn-ErrorType at any 4xx, for customized gateway responses", () => {
    const message = '{"message":"Missing Authentication Token"}';
    expect(httpCode(resp(404, message, missingToken), [])).toBe("HTTP_MISSING_AUTH_TOKEN");
    // A customized DEFAULT_4XX keeps the error type of the answer it stands for.
    const forbidden = { "x-amzn-errortype": "ForbiddenException" };
    expect(httpCode(resp(400, '{"message":"Forbidden"}', forbidden), [])).toBe("HTTP_FORBIDDEN");
    const denied = { "x-amzn-errortype": "AccessDeniedException" };
    const authorizer = '{"Message":"User is not authorized to access this resource"}';
    expect(httpCode(resp(401, authorizer, denied), [])).toBe("HTTP_AUTHORIZER_DENY");
    const signature = { "x-amzn-errortype": "IncompleteSignatureException" };
    expect(httpCode(resp(400, "{}", signature), [])).toBe("HTTP_SIGNATURE_INVALID");
  });

  it("never reads a 5xx as a 4xx error type, nor a 4xx body without error type as a 403", () => {
    expect(httpCode(resp(500, "{}", missingToken), [])).toBe("HTTP_BACKEND_ERROR");
    expect(httpCode(resp(404, '{"message":"Missing Authentication Token"}'), [])).toBe(
      "HTTP_UNEXPECTED_STATUS",
    );
  });

  it.each([
    ["with an explicit deny in a service control policy", "scp", "HTTP_POLICY_DENY"],
    [
      "because no service control policy allows the execute-api:Invoke action",
      "scp",
      "HTTP_POLICY_NO_ALLOW",
    ],
    ["with an explicit deny in a resource control policy", "rcp", "HTTP_POLICY_DENY"],
    ["with an explicit deny in a permissions boundary", "permissions-boundary", "HTTP_POLICY_DENY"],
    [
      "because no permissions boundary allows the execute-api:Invoke action",
      "permissions-boundary",
      "HTTP_POLICY_NO_ALLOW",
    ],
    ["with an explicit deny in a session policy", "session", "HTTP_POLICY_DENY"],
    [
      "because no session policy allows the execute-api:Invoke action",
      "session",
      "HTTP_POLICY_NO_ALLOW",
    ],
    ["with an explicit deny in an identity-based policy", "identity", "HTTP_POLICY_DENY"],
    [
      "because no resource-based policy allows the execute-api:Invoke action",
      "resource",
      "HTTP_POLICY_NO_ALLOW",
    ],
  ] as const)("names the policy of '... %s'", (tail, kind, code) => {
    const message = `User: arn:aws:sts::123456789012:assumed-role/caller/s is not authorized to perform: execute-api:Invoke on resource: ${ARN} ${tail}`;
    const o = resp(403, JSON.stringify({ Message: message }), {
      "x-amzn-errortype": "AccessDeniedException",
    });
    expect(policyTypeOf(message)).toBe(kind);
    const f = classifyHttp(o, at, { total: 1 }, []);
    expect(f.code).toBe(code);
    expect(f.evidence.policyType).toBe(kind);
  });

  it("picks hints from the evidence and the access mode", () => {
    const forbidden = resp(403, '{"message":"Forbidden"}', {
      "x-amzn-errortype": "ForbiddenException",
    });
    expect(
      classifyHttp(forbidden, at, { total: 1 }, [], undefined, { mode: "domain" }).hint,
    ).toMatch(/base path mapping/);
    const authorizer = resp(500, '{"message":null}', {
      "x-amzn-errortype": "AuthorizerConfigurationException",
    });
    const failed = classifyHttp(authorizer, at, { total: 1 }, []);
    expect(failed.code).toBe("HTTP_BACKEND_ERROR");
    expect(failed.hint).toMatch(/authorizer failed \(AuthorizerConfigurationException\)/);
    const validator = resp(400, '{"message": "Invalid request body"}', {
      "x-amzn-errortype": "BadRequestException",
    });
    const rejected = classifyHttp(validator, at, { total: 1 }, []);
    expect(rejected.code).toBe("HTTP_UNEXPECTED_STATUS");
    expect(rejected.hint).toContain('"Invalid request body"');
    const quota = resp(429, '{"message":"Limit Exceeded"}', {
      "x-amzn-errortype": "LimitExceededException",
    });
    expect(classifyHttp(quota, at, { total: 1 }, []).hint).toMatch(/quota/);
  });

  it("gives DNS answers the advice of the name asked", () => {
    const dns = (name: string, addresses: string[]): DnsObservation => ({
      resolver: "10.0.0.2:53",
      name,
      type: "A",
      truncated: false,
      rcode: "NOERROR",
      addresses,
      cnames: [],
      foreignAnswers: 0,
      durationMs: 3,
    });
    const ranges = privateRanges([]);
    const host = classifyDns(
      [dns("a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", ["52.94.133.131"])],
      ranges,
    );
    expect(host.code).toBe("DNS_PUBLIC_ADDRESS");
    expect(host.hint).toMatch(/Route 53 Resolver inbound endpoint/);
    const header = classifyDns(
      [dns("vpce-1-a.execute-api.us-east-1.vpce.amazonaws.com", ["52.94.133.131"])],
      ranges,
    );
    expect(header.hint).toMatch(/public name was used/);
    expect(nameKind("a1b2c3d4e5-vpce-0a1b2c3d.execute-api.cn-north-1.amazonaws.com.cn")).toBe(
      "api",
    );
    expect(nameKind("vpce-0a-b1.execute-api.cn-north-1.vpce.amazonaws.com.cn")).toBe("endpoint");
    expect(nameKind("ledger.intra.example.com")).toBe("domain");
  });
});
