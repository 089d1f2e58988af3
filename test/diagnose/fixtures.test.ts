// The classifier against answers API Gateway really sent (test/fixtures/apigw/), not against the
// simulator, which was written from the same beliefs as the classifier.
import { describe, expect, it } from "vitest";
import { classifyHttp } from "../../src/diagnose/classify.js";
import { asObservation, loadFixtures } from "../fixtures/apigw.js";

const fixtures = loadFixtures();
const at = { address: "10.0.1.95", stage: "prod", path: "/prod/" };
const before = { total: 10 };

describe("real API Gateway answers", () => {
  it("are enough to cover every kind of refusal the issue lists", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(15);
    const codes = new Set(fixtures.map((f) => f.expect.code));
    for (const code of [
      "HTTP_FORBIDDEN",
      "HTTP_MISSING_AUTH_TOKEN",
      "HTTP_POLICY_DENY",
      "HTTP_POLICY_NO_ALLOW",
      "HTTP_AUTHORIZER_DENY",
      "HTTP_SIGNATURE_INVALID",
      "HTTP_UNAUTHORIZED",
      "HTTP_THROTTLED",
      "HTTP_BACKEND_ERROR",
      "HTTP_MISDIRECTED",
      "HTTP_UNEXPECTED_STATUS",
    ])
      expect(codes, code).toContain(code);
    const policies = new Set(fixtures.map((f) => f.expect.policyType).filter(Boolean));
    expect([...policies].sort()).toEqual([
      "identity",
      "permissions-boundary",
      "rcp",
      "resource",
      "scp",
      "session",
      "unknown",
      "vpc-endpoint",
    ]);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))(
    "%s cites its source and says what was filled in",
    (_name, f) => {
      expect(f.source.url).toMatch(/^https:\/\/\S+$/);
      if (f.source.docs)
        expect(f.source.docs).toMatch(/^https:\/\/(docs\.aws\.amazon\.com|repost\.aws)\//);
      for (const [name, value] of Object.entries(f.headers))
        if (value === "(filled from documentation)")
          expect(
            f.filledFromDocs.some((x) => x === "headers" || x === `headers.${name}`),
            `${name} is marked as filled`,
          ).toBe(true);
    },
  );

  it.each(fixtures.map((f) => [f.name, f.expect.code, f] as const))(
    "classifies %s as %s",
    (_name, code, f) => {
      const finding = classifyHttp(asObservation(f), at, before, []);
      expect(finding.code).toBe(code);
      expect(finding.status).toBe("fail");
      expect(finding.evidence.policyType).toBe(f.expect.policyType);
      expect(finding.hint.length).toBeGreaterThan(40);
      if (f.expect.hint) expect(finding.hint).toMatch(new RegExp(f.expect.hint));
    },
  );

  it("has a customized status among them, classified by its error type", () => {
    const custom = fixtures.filter(
      (f) => f.status !== 403 && f.expect.code === "HTTP_MISSING_AUTH_TOKEN",
    );
    expect(custom.map((f) => f.status)).toContain(404);
  });

  it("says where a fixture was composed rather than captured", () => {
    for (const f of fixtures.filter((x) => x.source.note?.startsWith("Composed")))
      expect(f.filledFromDocs.some((x) => x.startsWith("body") || x === "headers")).toBe(true);
  });

  it("names the policy that refused in the hint, not always the resource policy", () => {
    const hintOf = (name: string) => {
      const f = fixtures.find((x) => x.name === name);
      if (!f) throw new Error(name);
      return classifyHttp(asObservation(f), at, before, []).hint;
    };
    expect(hintOf("vpc-endpoint-policy-explicit-deny")).toMatch(/VPC endpoint's own policy/);
    expect(hintOf("vpc-endpoint-policy-explicit-deny")).toMatch(/Full Access/);
    expect(hintOf("vpc-endpoint-policy-no-allow")).toMatch(/VPC endpoint's own policy/);
    expect(hintOf("identity-policy-explicit-deny")).toMatch(/identity-based \(IAM\) policy/);
    expect(hintOf("resource-policy-explicit-deny-new-form")).toMatch(/API's resource policy/);
    expect(hintOf("lambda-authorizer-explicit-deny")).toMatch(/authorizer/);
    expect(hintOf("lambda-authorizer-explicit-deny")).not.toMatch(/aws:sourceVpce/);
    expect(hintOf("signature-expired")).toMatch(/clock/);
    expect(hintOf("waf-filtered-403")).toMatch(/API key \(usage plan\)/);
    expect(hintOf("waf-filtered-403")).toMatch(/AWS WAF/);
    expect(hintOf("waf-filtered-403")).toMatch(/STRICT/);
  });

  it("keeps the whole message, ARN and policy included, up to 512 characters", () => {
    const f = fixtures.find((x) => x.name === "vpc-endpoint-policy-explicit-deny");
    if (!f) throw new Error("fixture");
    const finding = classifyHttp(asObservation(f), at, before, []);
    expect(finding.message.length).toBeGreaterThan(120);
    expect(finding.message).toContain("with an explicit deny in a VPC endpoint policy");
    expect(finding.message).toContain("a1b2c3d4e5/prod/GET/");
    const long = { ...asObservation(f), body: JSON.stringify({ message: "x".repeat(2000) }) };
    const cut = classifyHttp(long, at, before, []);
    expect(cut.evidence.errorMessage).toHaveLength(512);
  });

  it("carries the request ids, time, names and TLS of the request for a support case", () => {
    const f = fixtures.find((x) => x.name === "private-api-forbidden-no-api-id");
    if (!f) throw new Error("fixture");
    const sent = {
      requestedAt: "2026-11-28T16:00:00.000Z",
      sni: "vpce-1-a.execute-api.us-east-1.vpce.amazonaws.com",
      host: "vpce-1-a.execute-api.us-east-1.vpce.amazonaws.com",
      tlsVersion: "TLSv1.2",
      tlsCipher: "ECDHE-RSA-AES128-GCM-SHA256",
    };
    const finding = classifyHttp(asObservation(f), at, before, [], sent);
    expect(finding.evidence).toMatchObject({
      requestId: "5bb402aa-193f-4fd5-a6f7-1d9c07e5bf02",
      apigwId: "Oju9IGv65PgFlBg=",
      ...sent,
    });
  });
});
