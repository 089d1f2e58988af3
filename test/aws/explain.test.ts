import { describe, expect, it } from "vitest";
import { summarize } from "../../src/diagnose/verdict.js";
import type { AwsFinding, Finding } from "../../src/types.js";

const tcp = (address: string, code: "TCP_OK" | "TCP_TIMEOUT"): Finding => ({
  layer: "tcp",
  code,
  status: code === "TCP_OK" ? "pass" : "fail",
  address,
  timings: { total: 1 },
  message: code === "TCP_OK" ? "connected" : "no answer to SYN",
  hint: code === "TCP_OK" ? "" : "the security group, a NACL or routing",
  evidence: { port: 443 },
});
const http = (address: string): Finding => ({
  layer: "http",
  code: "HTTP_OK",
  status: "pass",
  address,
  stage: "prod",
  timings: { total: 1 },
  message: "200",
  hint: "",
  evidence: { request: "GET /prod/", status: 200 },
});
const aws = (code: AwsFinding["code"], address: string | undefined, hint: string): AwsFinding => ({
  layer: "aws",
  code,
  status: code === "AWS_UNREADABLE" ? "warn" : "fail",
  address,
  timings: { total: 0 },
  message: code,
  hint,
  evidence: {},
});

const ADDRS = ["10.20.1.10", "10.20.2.10"];

describe("an aws finding that explains the primary cause", () => {
  it("puts the route table of the failing address into the cause's hint", () => {
    const findings = [
      tcp("10.20.1.10", "TCP_OK"),
      http("10.20.1.10"),
      tcp("10.20.2.10", "TCP_TIMEOUT"),
      aws("AWS_NO_RETURN_ROUTE", "10.20.2.10", "Route table rtb-0b of subnet subnet-b ..."),
    ];
    const { verdict, primaryCause } = summarize(findings, ADDRS, ["prod"]);
    expect(verdict).toBe("degraded");
    expect(primaryCause?.code).toBe("TCP_TIMEOUT");
    expect(primaryCause?.hint).toMatch(/^AWS: Route table rtb-0b/);
  });

  it("does not borrow a finding about another address", () => {
    const findings = [
      tcp("10.20.1.10", "TCP_OK"),
      http("10.20.1.10"),
      tcp("10.20.2.10", "TCP_TIMEOUT"),
      aws("AWS_NO_RETURN_ROUTE", "10.20.1.10", "Route table rtb-0a ..."),
    ];
    expect(summarize(findings, ADDRS, ["prod"]).primaryCause?.hint).not.toContain("rtb-0a");
  });

  it("never changes the verdict: aws failures on a healthy run leave it healthy", () => {
    const findings = [
      tcp("10.20.1.10", "TCP_OK"),
      http("10.20.1.10"),
      aws("AWS_SG_BLOCKS_SOURCE", "10.20.1.10", "sg-1"),
      aws("AWS_UNREADABLE", undefined, "no credentials"),
    ];
    expect(summarize(findings, ["10.20.1.10"], ["prod"])).toEqual({
      verdict: "healthy",
      primaryCause: null,
    });
  });
});
