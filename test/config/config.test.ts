import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseDuration } from "../../src/config/duration.js";
import { envOverrides } from "../../src/config/env.js";
import { resolveSettings } from "../../src/config/load.js";
import { parseConfigText, readConfigFile } from "../../src/config/file.js";
import { checkHeader, checkPath, parseEndpoint, parseResolver } from "../../src/config/names.js";
import { UsageError } from "../../src/types.js";

const ENDPOINT = "vpce-0123456789abcdef0-abcd1234.execute-api.us-east-1.vpce.amazonaws.com";
const cli = { endpoint: ENDPOINT, apiId: "a1b2c3d4e5", stages: ["prod"], resolvers: ["10.0.0.2"] };

describe("durations", () => {
  it("reads the units the design uses", () => {
    expect(parseDuration("500ms", "t")).toBe(500);
    expect(parseDuration("5s", "t")).toBe(5000);
    expect(parseDuration("1.5s", "t")).toBe(1500);
    expect(parseDuration("1m", "t")).toBe(60_000);
    expect(parseDuration(250, "t")).toBe(250);
  });
  it.each(["", "5 seconds", "-1s", "0s", "1e9s", "5x"])("refuses %j", (bad) => {
    expect(() => parseDuration(bad, "timeout")).toThrow(UsageError);
  });
});

describe("names and values that reach the network", () => {
  it("parses resolvers with and without ports, IPv4 and IPv6", () => {
    expect(parseResolver("10.0.0.2")).toEqual({ host: "10.0.0.2", port: 53 });
    expect(parseResolver("10.0.0.2:5353")).toEqual({ host: "10.0.0.2", port: 5353 });
    expect(parseResolver("[fd00::2]:53")).toEqual({ host: "fd00::2", port: 53 });
    expect(parseResolver("fd00::2")).toEqual({ host: "fd00::2", port: 53 });
    expect(() => parseResolver("dns.example.com")).toThrow(/not an IP address/);
    expect(() => parseResolver("10.0.0.2:99999")).toThrow(UsageError);
  });
  it("refuses CR/LF and control characters in headers, and reserved names", () => {
    expect(checkHeader("X-Trace", " abc ")).toEqual({ name: "x-trace", value: "abc" });
    expect(() => checkHeader("x-a", "v\r\nInjected: 1")).toThrow(/line breaks/);
    expect(() => checkHeader("bad name", "v")).toThrow(UsageError);
    expect(() => checkHeader("host", "evil")).toThrow(/set by apigw-diag/);
  });
  it("refuses paths with spaces or line breaks and keeps encoded ones", () => {
    expect(checkPath("/items/%20x?y=1")).toBe("/items/%20x?y=1");
    expect(() => checkPath("/a b")).toThrow(UsageError);
    expect(() => checkPath("/a\r\nHost: x")).toThrow(UsageError);
    expect(() => checkPath("relative")).toThrow(UsageError);
  });
  it("reads the region and endpoint id from the endpoint name", () => {
    expect(parseEndpoint(ENDPOINT)).toEqual({
      vpceId: "vpce-0123456789abcdef0",
      region: "us-east-1",
    });
    expect(
      parseEndpoint("vpce-0a-b1-us-east-1a.execute-api.us-east-1.vpce.amazonaws.com").region,
    ).toBe("us-east-1");
    expect(parseEndpoint("api.example.com")).toEqual({});
  });
});

describe("resolveSettings", () => {
  it("builds one target from flags with the defaults", () => {
    const s = resolveSettings(cli, {}, {});
    expect(s.targets).toHaveLength(1);
    expect(s.targets[0]).toMatchObject({
      endpoint: ENDPOINT,
      mode: "header",
      path: "/",
      port: 443,
      timeoutMs: 5000,
      compareOs: true,
      insecure: false,
    });
  });
  it("lets flags win over the environment, and the environment over the file", () => {
    const file = parseConfigText(
      `timeout: 9s\nport: 8443\ntargets: [{endpoint: ${ENDPOINT}, apiId: a1b2c3d4e5, stages: [prod]}]`,
      "f.yaml",
    );
    const s = resolveSettings({ timeout: "1s" }, { timeout: "2s", port: 9443 }, file);
    expect(s.targets[0]).toMatchObject({ timeoutMs: 1000, port: 9443 });
    expect(resolveSettings({}, {}, file).targets[0]).toMatchObject({ timeoutMs: 9000, port: 8443 });
  });
  it("marks x-api-key and config-marked headers secret", () => {
    const file = parseConfigText(
      `targets: [{endpoint: ${ENDPOINT}, apiId: a1b2c3d4e5, stages: [prod], headers: {x-api-key: k, x-tenant: {value: t, secret: true}, x-plain: p}}]`,
      "f.yaml",
    );
    const headers = resolveSettings({}, {}, file).targets[0]?.headers;
    expect(headers).toEqual([
      { name: "x-api-key", value: "k", secret: true },
      { name: "x-tenant", value: "t", secret: true },
      { name: "x-plain", value: "p", secret: false },
    ]);
  });
  it.each([
    [{ ...cli, apiId: "A1B2" }, /api id/],
    [{ ...cli, stages: ["pr od"] }, /stage/],
    [{ ...cli, endpoint: "bad_name!" }, /not a valid DNS name/],
    [{ ...cli, mode: "host" as const, endpoint: "api.internal.example" }, /--mode host needs/],
    [{ endpoint: ENDPOINT }, /--api-id is required/],
    [{}, /nothing to diagnose/],
    [{ ...cli, privateCidrs: ["10.0.0.0/33"] }, /not a CIDR/],
    [{ ...cli, headers: ["x-api-key"] }, /expected 'name: value'/],
  ])("refuses bad input %#", (flags, message) => {
    expect(() => resolveSettings(flags, {}, {})).toThrow(message);
  });
});

describe("config files", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "apigw-diag-config-"));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  it("reads the design's example", () => {
    const file = write(
      "good.yaml",
      `timeout: 5s
resolvers: [10.0.0.2]
privateCidrs: [100.64.0.0/10]
daemon:
  interval: 60s
  listen: 0.0.0.0:9464
targets:
  - name: orders
    endpoint: ${ENDPOINT}
    apiId: a1b2c3d4e5
    stages: [prod, v2]
    mode: header
    path: /
    expectStatus: [200]
    headers:
      x-api-key: { value: "...", secret: true }
`,
    );
    const s = resolveSettings({}, {}, readConfigFile(file));
    expect(s.targets[0]).toMatchObject({
      name: "orders",
      stages: ["prod", "v2"],
      expectStatus: [200],
      privateCidrs: ["100.64.0.0/10"],
    });
    expect(s.daemon).toMatchObject({ intervalMs: 60_000, listen: { host: "0.0.0.0", port: 9464 } });
  });
  it("reads JSON too", () => {
    const file = write(
      "good.json",
      JSON.stringify({ targets: [{ endpoint: ENDPOINT, apiId: "a1b2c3d4e5", stages: ["prod"] }] }),
    );
    expect(resolveSettings({}, {}, readConfigFile(file)).targets).toHaveLength(1);
  });
  it("names the field and the problem", () => {
    const file = write(
      "bad.yaml",
      `targets:\n  - endpoint: ${ENDPOINT}\n    apiId: 42\n    stages: []\n`,
    );
    expect(() => readConfigFile(file)).toThrow(
      /targets\[0\]\.apiId: .*string.*targets\[0\]\.stages/,
    );
  });
  it("refuses unknown fields, broken YAML and missing files", () => {
    expect(() => parseConfigText("timout: 5s", "x.yaml")).toThrow(/timout/);
    expect(() => parseConfigText("targets: [", "x.yaml")).toThrow(/not valid YAML/);
    expect(() => readConfigFile(path.join(dir, "missing.yaml"))).toThrow(/cannot read \(ENOENT\)/);
  });
});

describe("environment", () => {
  it("reads APIGW_DIAG_* variables", () => {
    const o = envOverrides({
      APIGW_DIAG_ENDPOINT: ENDPOINT,
      APIGW_DIAG_STAGES: "prod, v2",
      APIGW_DIAG_RESOLVERS: "10.0.0.2,10.0.0.3:5353",
      APIGW_DIAG_PORT: "8443",
      APIGW_DIAG_COMPARE_OS: "false",
    });
    expect(o).toMatchObject({
      endpoint: ENDPOINT,
      stages: ["prod", "v2"],
      resolvers: ["10.0.0.2", "10.0.0.3:5353"],
      port: 8443,
      compareOs: false,
    });
  });
  it("refuses values of the wrong kind", () => {
    expect(() => envOverrides({ APIGW_DIAG_PORT: "http" })).toThrow(/APIGW_DIAG_PORT/);
    expect(() => envOverrides({ APIGW_DIAG_INSECURE: "maybe" })).toThrow(/APIGW_DIAG_INSECURE/);
  });
});
