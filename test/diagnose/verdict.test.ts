import { describe, expect, it } from "vitest";
import { finding } from "../../src/diagnose/classify.js";
import { summarize, worstVerdict } from "../../src/diagnose/verdict.js";
import type { FindingCode } from "../../src/types.js";

const f = (code: FindingCode, address?: string, stage?: string) =>
  finding(code, code, {}, { total: 1 }, { address, stage });
const A = ["10.0.1.10", "10.0.2.10"];
const S = ["prod", "v2"];
const allOk = () =>
  A.flatMap((a) => [f("TCP_OK", a), f("TLS_OK", a), ...S.map((s) => f("HTTP_OK", a, s))]);

describe("summarize", () => {
  it("is healthy when every stage works through every address", () => {
    expect(summarize([f("DNS_OK"), ...allOk()], A, S)).toEqual({
      verdict: "healthy",
      primaryCause: null,
    });
  });

  it("stays healthy with only a warning", () => {
    expect(summarize([f("DNS_OK"), f("DNS_OS_MISMATCH"), ...allOk()], A, S).verdict).toBe(
      "healthy",
    );
  });

  it("is degraded when one Availability Zone does not answer, and names it", () => {
    const findings = [
      f("DNS_OK"),
      f("TCP_OK", A[0]),
      f("TLS_OK", A[0]),
      f("HTTP_OK", A[0], "prod"),
      f("HTTP_OK", A[0], "v2"),
      f("TCP_TIMEOUT", A[1]),
    ];
    const { verdict, primaryCause } = summarize(findings, A, S);
    expect(verdict).toBe("degraded");
    expect(primaryCause).toMatchObject({ layer: "tcp", code: "TCP_TIMEOUT", addresses: [A[1]] });
    expect(primaryCause?.hint).toMatch(/Availability Zone/);
  });

  it("is failing when nothing works, and picks the lowest failing layer", () => {
    const findings = [
      f("DNS_OK"),
      f("TCP_TIMEOUT", A[0]),
      f("TCP_OK", A[1]),
      f("TLS_OK", A[1]),
      f("HTTP_FORBIDDEN", A[1], "prod"),
      f("HTTP_FORBIDDEN", A[1], "v2"),
    ];
    const { verdict, primaryCause } = summarize(findings, A, S);
    expect(verdict).toBe("failing");
    expect(primaryCause?.code).toBe("TCP_TIMEOUT");
  });

  it("is failing when DNS gave nothing", () => {
    expect(summarize([f("DNS_NXDOMAIN")], [], S)).toMatchObject({
      verdict: "failing",
      primaryCause: { code: "DNS_NXDOMAIN", layer: "dns" },
    });
  });

  it("picks the code most failing paths share within the layer", () => {
    const findings = [
      f("HTTP_OK", A[0], "prod"),
      f("HTTP_THROTTLED", A[0], "v2"),
      f("HTTP_BACKEND_ERROR", A[1], "prod"),
      f("HTTP_BACKEND_ERROR", A[1], "v2"),
    ];
    expect(summarize(findings, A, S).primaryCause?.code).toBe("HTTP_BACKEND_ERROR");
  });

  it("tells a stage not deployed from a wrong API id", () => {
    const oneStage = [f("HTTP_OK", A[0], "prod"), f("HTTP_FORBIDDEN", A[0], "v2")];
    expect(summarize(oneStage, [A[0] as string], S).primaryCause?.hint).toMatch(/not deployed/);
    const every = [f("HTTP_FORBIDDEN", A[0], "prod"), f("HTTP_FORBIDDEN", A[0], "v2")];
    expect(summarize(every, [A[0] as string], S).primaryCause?.hint).toMatch(/x-apigw-api-id/);
  });
});

describe("primary cause across stages", () => {
  it("names no stage when a connection fault breaks every stage of the address", () => {
    const findings = [f("TCP_REFUSED", A[0]), f("TCP_REFUSED", A[1])];
    expect(summarize(findings, A, S).primaryCause).toMatchObject({
      code: "TCP_REFUSED",
      stages: [],
      addresses: A,
    });
  });
  it("points to routing when timeouts and ICMP unreachables mix", () => {
    const findings = [
      f("TCP_TIMEOUT", A[0]),
      f("TCP_TIMEOUT", A[1]),
      f("TCP_UNREACHABLE", A[1], "v2"),
    ];
    expect(summarize(findings, A, S).primaryCause?.hint).toMatch(/points to routing/);
  });
});

describe("worstVerdict", () => {
  it("orders healthy < degraded < failing", () => {
    expect(worstVerdict([])).toBe("healthy");
    expect(worstVerdict(["healthy", "degraded"])).toBe("degraded");
    expect(worstVerdict(["failing", "degraded", "healthy"])).toBe("failing");
  });
});
