// The text report shows where each address's packets go: the AZ, source and interface beside the
// address in the table, and one path line per address with the gateway and MTU.
import { describe, expect, it } from "vitest";
import { classifyPath } from "../../src/diagnose/path.js";
import { renderText } from "../../src/report/text.js";
import type { AddressInfo, Report } from "../../src/types.js";

const ENDPOINT = "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.eu-west-3.vpce.amazonaws.com";
const A: AddressInfo = {
  address: "10.20.1.10",
  family: 4,
  az: "eu-west-3a",
  source: "10.0.0.10",
  interface: "eth0",
  gateway: "10.0.0.1",
  mtu: 9000,
};
const B: AddressInfo = { ...A, address: "10.20.2.10", az: null, interface: "tun0\x1b[2J" };

function report(addressInfo?: AddressInfo[]): Report {
  const info = addressInfo ?? [];
  return {
    schemaVersion: 1,
    tool: { name: "apigw-diag", version: "0.0.0" },
    startedAt: "2026-12-07T00:00:00.000Z",
    durationMs: 5,
    verdict: "healthy",
    exitCode: 0,
    interrupted: false,
    targets: [
      {
        name: "orders",
        endpoint: ENDPOINT,
        apiId: "a1b2c3d4e5",
        mode: "header",
        stages: ["prod"],
        verdict: "healthy",
        primaryCause: null,
        comparisonRequests: 0,
        addresses: [A.address, B.address],
        skipped: [],
        unfinished: [],
        insecure: false,
        durationMs: 5,
        findings: info.map((i) => classifyPath(i, { ...i, durationMs: 0.1 })),
        ...(addressInfo ? { addressInfo } : {}),
      },
    ],
  };
}

describe("text report: the path of each address", () => {
  const text = renderText(report([A, B]), { color: false });
  const lines = text.split("\n");

  it("puts AZ, SOURCE and IFACE beside the address in the table", () => {
    expect(lines.find((l) => l.includes("ADDRESS"))).toMatch(
      /ADDRESS\s+AZ\s+SOURCE\s+IFACE\s+STAGE/,
    );
    expect(lines.find((l) => l.trim().startsWith("10.20.1.10"))).toMatch(
      /^\s+10\.20\.1\.10\s+eu-west-3a\s+10\.0\.0\.10\s+eth0\s+prod/,
    );
    expect(lines.find((l) => l.trim().startsWith("10.20.2.10"))).toMatch(/10\.20\.2\.10\s+-\s+10/);
  });

  it("prints one path line per address with gateway and MTU", () => {
    expect(text).toContain(
      "path ok   PATH_OK              10.20.1.10: from 10.0.0.10 dev eth0 via 10.0.0.1 mtu 9000 az eu-west-3a",
    );
  });

  it("escapes an interface name, as it does everything the host or the network names", () => {
    expect(text).not.toContain("\x1b");
    expect(text).toContain("tun0\\x1b[2J");
  });

  it("shows dashes for a report without addressInfo", () => {
    const bare = renderText(report(), { color: false });
    expect(bare).toMatch(/10\.20\.1\.10\s+-\s+-\s+-\s+prod/);
  });
});
