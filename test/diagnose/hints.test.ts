// The advice itself (issue 23): each hint says what AWS's documentation says, in the order that
// is safe to follow during an incident. The texts live in one module; the tests read them there
// and through the functions that pick them from the evidence.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { finding } from "../../src/diagnose/classify.js";
import {
  FORBIDDEN_IN_EVERY_MODE,
  HINTS,
  dnsHint,
  forbiddenHint,
  messageHint,
  policyHint,
  pathFactHint,
} from "../../src/hints.js";
import { summarize } from "../../src/diagnose/verdict.js";
import { FINDING_CODES } from "../../src/types.js";

describe("hints in one place", () => {
  it("has a hint for every failing or warning code, and none for the OK codes", () => {
    for (const code of FINDING_CODES) {
      if (code.endsWith("_OK")) expect(HINTS[code], code).toBe("");
      else expect(HINTS[code].length, code).toBeGreaterThan(60);
    }
  });

  it("is the only module of src/diagnose and src/aws holding hint texts", () => {
    // A hint is a long sentence in a string literal; the other modules import theirs.
    const src = join(__dirname, "../../src");
    const sentence =
      /["`][A-Z][^"`\n]{0,40}(?:check|the endpoint's|Availability Zone|Forbidden:)[^"`\n]{60,}["`]/;
    const others = ["diagnose", "aws"].flatMap((d) =>
      readdirSync(join(src, d))
        .filter((f) => f.endsWith(".ts"))
        .map((f) => join(d, f)),
    );
    expect(others).toContain(join("diagnose", "verdict.ts"));
    for (const file of others)
      expect(readFileSync(join(src, file), "utf8"), file).not.toMatch(sentence);
    expect(readFileSync(join(src, "hints.ts"), "utf8")).toMatch(sentence);
  });
});

describe("HTTP_MODE_REJECTED and HTTP_MISDIRECTED: safe during an incident", () => {
  for (const code of ["HTTP_MODE_REJECTED", "HTTP_MISDIRECTED"] as const) {
    it(`${code}: moves the clients first, and says BASIC makes the endpoint unavailable`, () => {
      const hint = HINTS[code];
      const move = hint.indexOf("private DNS name");
      const basic = hint.indexOf("BASIC");
      expect(move).toBeGreaterThan(0);
      expect(hint).toMatch(/custom domain name/);
      expect(basic).toBeGreaterThan(move);
      expect(hint).toMatch(/unavailable for about 15 minutes/);
      expect(hint).toMatch(/clients that work now too/);
      expect(hint).not.toMatch(/set the API's endpoint access mode to BASIC and redeploy/);
    });
  }

  it("names any SecurityPolicy_*, not only the TLS 1.3 ones", () => {
    expect(HINTS.HTTP_MODE_REJECTED).toContain("any SecurityPolicy_*");
    expect(HINTS.HTTP_MODE_REJECTED).not.toContain("SecurityPolicy_TLS13_*");
  });
});

describe("HTTP_SIGNATURE_INVALID", () => {
  it("names the most common cause, a resource that does not exist, and not endpoint policies", () => {
    const hint = HINTS.HTTP_SIGNATURE_INVALID;
    expect(hint).toMatch(/path, method or stage that does not exist/);
    expect(hint).toMatch(/IAM authorization/);
    expect(hint).toMatch(/clock/);
    expect(hint).not.toMatch(/names principals/);
  });
});

describe("the default endpoint disabled", () => {
  it("is named by the Forbidden hints", () => {
    expect(HINTS.HTTP_FORBIDDEN).toContain("disableExecuteApiEndpoint");
    expect(FORBIDDEN_IN_EVERY_MODE).toContain("disableExecuteApiEndpoint");
  });
});

describe("DNS advice by the name asked", () => {
  it("puts the inbound-endpoint forwarding on the public answer of the API's own name", () => {
    const hint = dnsHint("DNS_PUBLIC_ADDRESS", "api");
    expect(hint).toMatch(/Route 53 Resolver inbound endpoint/);
    expect(hint).toMatch(/private DNS is off/);
    expect(hint).toMatch(/403/);
  });

  it("says a public name was used when the endpoint's own name answers public", () => {
    const hint = dnsHint("DNS_PUBLIC_ADDRESS", "endpoint");
    expect(hint).toMatch(/public name was used/);
    expect(hint).not.toMatch(/inbound endpoint/);
  });

  it("keeps NXDOMAIN of the endpoint name to typos, and of the API name to forwarding", () => {
    expect(dnsHint("DNS_NXDOMAIN", "endpoint")).not.toMatch(/inbound endpoint/);
    expect(dnsHint("DNS_NXDOMAIN", "api")).toMatch(/Route 53 Resolver inbound endpoint/);
    expect(dnsHint("DNS_NXDOMAIN", "api")).toMatch(/\.2 resolver from on-prem does not work/);
  });

  it("sends a domain's public answer to its private hosted zone", () => {
    expect(dnsHint("DNS_PUBLIC_ADDRESS", "domain")).toMatch(/private hosted zone/);
  });
});

describe("TLS_TIMEOUT", () => {
  it("blames a hop smaller than this host's interface, not 9001 toward 8500", () => {
    const hint = HINTS.TLS_TIMEOUT;
    expect(hint).not.toMatch(/9001|8500/);
    expect(hint).toMatch(/smaller MTU than this host's interface/);
    expect(hint).toMatch(/tunnel/);
    expect(hint).toMatch(/MSS/);
    const info = {
      address: "10.20.1.10",
      family: 4 as const,
      az: null,
      source: "10.250.0.10",
      interface: "dx0",
      gateway: null,
      mtu: 9001,
    };
    expect(pathFactHint("TLS_TIMEOUT", info)).toContain("dx0 has MTU 9001");
  });
});

describe("policies by kind", () => {
  it("gives the caller's own explicit deny its own hint", () => {
    const identity = policyHint("HTTP_POLICY_DENY", "identity");
    expect(identity).toMatch(/identity-based \(IAM\) policy of the caller/);
    expect(identity).not.toBe(policyHint("HTTP_POLICY_DENY", "resource"));
    expect(identity).not.toBe(policyHint("HTTP_POLICY_NO_ALLOW", "identity"));
  });

  it("uses aws:VpcSourceIp for private APIs", () => {
    expect(policyHint("HTTP_POLICY_DENY", "resource")).toContain("aws:VpcSourceIp");
    expect(HINTS.HTTP_POLICY_DENY).toContain("aws:VpcSourceIp");
    expect(HINTS.HTTP_POLICY_DENY).not.toMatch(/aws:SourceIp condition/);
  });

  it.each([
    ["scp", /service control policy/],
    ["rcp", /resource control policy/],
    ["permissions-boundary", /permissions boundary/],
    ["session", /session policy/],
  ] as const)("names %s in deny and no-allow hints", (kind, words) => {
    expect(policyHint("HTTP_POLICY_DENY", kind)).toMatch(words);
    expect(policyHint("HTTP_POLICY_NO_ALLOW", kind)).toMatch(words);
    expect(policyHint("HTTP_POLICY_DENY", kind)).not.toMatch(/API's resource policy/);
  });

  it("names the custom domain's own policy in domain mode, deny-all when created", () => {
    const hint = policyHint("HTTP_POLICY_DENY", "unknown", { mode: "domain" });
    expect(hint).toMatch(/domain name's own resource policy \(its `policy`/);
    expect(hint).toMatch(/denies everything until it is edited/);
    expect(policyHint("HTTP_POLICY_DENY", "unknown", { mode: "header" })).not.toMatch(/`policy`/);
  });
});

describe("domain mode Forbidden", () => {
  it("does not send an unmapped base path to x-apigw-api-id", () => {
    expect(forbiddenHint("domain")).toMatch(/base path mapping/);
    expect(forbiddenHint("domain")).not.toMatch(/x-apigw-api-id/);
    expect(forbiddenHint("host")).not.toMatch(/x-apigw-api-id/);
    expect(forbiddenHint("header")).toMatch(/x-apigw-api-id/);
  });

  it("does not tell a custom domain's caller to check x-apigw-api-id in the primary cause", () => {
    const forbidden = (stage: string) => {
      const f = finding(
        "HTTP_FORBIDDEN",
        "GET -> 403",
        { request: `GET /${stage}/`, status: 403, headers: { accept: "application/json" } },
        { total: 1 },
        { address: "10.0.1.10", stage },
      );
      return { ...f, hint: forbiddenHint("domain") };
    };
    const cause = summarize(
      [forbidden("ledger"), forbidden("v2")],
      ["10.0.1.10"],
      ["ledger", "v2"],
    ).primaryCause;
    expect(cause?.code).toBe("HTTP_FORBIDDEN");
    expect(cause?.hint).not.toMatch(/x-apigw-api-id/);
    expect(cause?.hint).toMatch(/base path mapping/);
  });
});

describe("401 and 5xx", () => {
  it("keeps 401 to authorizers: an API key or a signature is a 403", () => {
    expect(HINTS.HTTP_UNAUTHORIZED).toMatch(/authorizer/);
    expect(HINTS.HTTP_UNAUTHORIZED).toMatch(/403, not 401/);
  });

  it("names the authorizer failures in the 5xx hint", () => {
    expect(HINTS.HTTP_BACKEND_ERROR).toContain("AuthorizerConfigurationException");
    expect(HINTS.HTTP_BACKEND_ERROR).toContain("AuthorizerFailure");
  });
});

describe("hints that quote API Gateway's own message", () => {
  it.each([
    [400, "Invalid request body", /request validator rejected the body/],
    [
      400,
      "Missing required request parameters: [x-tenant, page]",
      /request validator rejected the request/,
    ],
    [413, "Request Too Long", /too large/],
  ] as const)("%i %s", (status, message, words) => {
    const hint = messageHint("HTTP_UNEXPECTED_STATUS", status, message);
    expect(hint).toMatch(words);
    expect(hint).toContain(JSON.stringify(message));
  });

  it("tells a usage plan's quota from throttling", () => {
    const hint = messageHint("HTTP_THROTTLED", 429, "Limit Exceeded");
    expect(hint).toMatch(/quota/);
    expect(hint).toContain('"Limit Exceeded"');
    expect(messageHint("HTTP_THROTTLED", 429, "Too Many Requests")).toBe(HINTS.HTTP_THROTTLED);
  });

  it("keeps the generic hint when the message says nothing it knows", () => {
    expect(messageHint("HTTP_UNEXPECTED_STATUS", 404, "Not Found")).toBe(
      HINTS.HTTP_UNEXPECTED_STATUS,
    );
  });
});
