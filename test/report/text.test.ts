import { describe, expect, it } from "vitest";
import { classifyHttp } from "../../src/diagnose/classify.js";
import { renderJson } from "../../src/report/json.js";
import { renderText } from "../../src/report/text.js";
import type { Finding, Report } from "../../src/types.js";
import { asObservation, fixture } from "../fixtures/apigw.js";

const sent = {
  requestedAt: "2026-11-28T16:00:00.000Z",
  sni: "vpce-1-a.execute-api.us-east-1.vpce.amazonaws.com",
  host: "vpce-1-a.execute-api.us-east-1.vpce.amazonaws.com",
  tlsVersion: "TLSv1.3",
  tlsCipher: "TLS_AES_128_GCM_SHA256",
};

function reportOf(findings: Finding[]): Report {
  return {
    schemaVersion: 1,
    tool: { name: "apigw-diag", version: "0.0.0" },
    startedAt: sent.requestedAt,
    durationMs: 5,
    verdict: "failing",
    exitCode: 2,
    interrupted: false,
    targets: [
      {
        name: "orders",
        endpoint: sent.sni,
        apiId: "a1b2c3d4e5",
        mode: "header",
        stages: ["prod"],
        verdict: "failing",
        primaryCause: null,
        addresses: ["10.0.1.95"],
        skipped: [],
        unfinished: [],
        insecure: false,
        comparisonRequests: 0,
        durationMs: 5,
        findings,
      },
    ],
  };
}

describe("the text report of a failed HTTP answer", () => {
  const real = fixture("vpc-endpoint-policy-explicit-deny");
  const http = classifyHttp(
    {
      ...asObservation(real),
      headers: { ...asObservation(real).headers, "x-amz-apigw-id": "Oju9IGv65PgFlBg=" },
    },
    { address: "10.0.1.95", stage: "prod", path: "/prod/" },
    { total: 1 },
    [],
    sent,
  );

  it("shows the whole message, past 120 characters, with the policy that refused", () => {
    const text = renderText(reportOf([http]), { color: false });
    expect(http.message.length).toBeGreaterThan(200);
    expect(text).toContain(http.message);
    expect(text).toContain("with an explicit deny in a VPC endpoint policy");
  });

  it("gives what a support case asks for, in text and JSON", () => {
    const text = renderText(reportOf([http]), { color: false });
    expect(text).toMatch(/x-amz-apigw-id Oju9IGv65PgFlBg=/);
    expect(text).toContain(`sent ${sent.requestedAt}`);
    expect(text).toContain(`SNI ${sent.sni}`);
    expect(text).toContain(`Host ${sent.host}`);
    expect(text).toContain("TLSv1.3 TLS_AES_128_GCM_SHA256");
    const json = JSON.parse(renderJson(reportOf([http]))) as Report;
    expect(json.targets[0]?.findings[0]?.evidence).toMatchObject({
      apigwId: "Oju9IGv65PgFlBg=",
      policyType: "vpc-endpoint",
      ...sent,
    });
  });

  it("escapes what the peer sent in those lines", () => {
    const hostile = classifyHttp(
      { ...asObservation(real), body: '{"message":"Forbidden\\u001b[2J"}' },
      { address: "10.0.1.95", stage: "prod", path: "/prod/" },
      { total: 1 },
      [],
      sent,
    );
    const text = renderText(reportOf([hostile]), { color: false });
    expect(text).not.toContain("\x1b[2J");
    expect(text).toMatch(/Forbidden\\(u001b|x1b)\[2J/);
  });
});
