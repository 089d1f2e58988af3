// Config for custom domains, address families and the access-mode comparison.
import { describe, expect, it } from "vitest";
import { envOverrides } from "../../src/config/env.js";
import { parseConfigText } from "../../src/config/file.js";
import { resolveSettings } from "../../src/config/load.js";
import { UsageError } from "../../src/types.js";

const ENDPOINT = "vpce-0123456789abcdef0-abcd1234.execute-api.us-east-1.vpce.amazonaws.com";
const cli = { endpoint: ENDPOINT, apiId: "a1b2c3d4e5", stages: ["prod"], resolvers: ["10.0.0.2"] };

describe("family and comparison settings", () => {
  it("defaults to --family auto with the comparison on", () => {
    const [t] = resolveSettings(cli, {}, {}).targets;
    expect(t).toMatchObject({ family: "auto", compareModes: true, basePaths: [] });
  });

  it("takes them from flags over the environment over the file", () => {
    const file = parseConfigText("family: 6\ncompareModes: true\ntargets: []", "c.yaml");
    const env = envOverrides({ APIGW_DIAG_FAMILY: "4", APIGW_DIAG_COMPARE_MODES: "false" });
    expect(resolveSettings(cli, {}, file).targets[0]).toMatchObject({ family: "6" });
    expect(resolveSettings(cli, env, file).targets[0]).toMatchObject({
      family: "4",
      compareModes: false,
    });
    const flags = { ...cli, family: "auto" as const, compareModes: true };
    expect(resolveSettings(flags, env, file).targets[0]).toMatchObject({
      family: "auto",
      compareModes: true,
    });
  });

  it("refuses a family that is not auto, 4 or 6, in the file and the environment", () => {
    expect(() => parseConfigText("family: 5", "c.yaml")).toThrow(UsageError);
    expect(() => envOverrides({ APIGW_DIAG_FAMILY: "ipv6" })).toThrow(/auto, 4 or 6/);
  });
});

describe("private custom domain names", () => {
  it("makes a domain target without endpoint, API id or stages, base path / by default", () => {
    const [t] = resolveSettings({ domain: "Ledger.Intra.Example.com." }, {}, {}).targets;
    expect(t).toMatchObject({
      mode: "domain",
      domain: "ledger.intra.example.com",
      basePaths: [""],
      stages: [],
    });
    expect(t?.endpoint).toBeUndefined();
  });

  it("strips slashes from base paths and refuses ones that could climb or inject", () => {
    const [t] = resolveSettings(
      { domain: "ledger.example.com", basePaths: ["/ledger/", "v2/orders"] },
      {},
      {},
    ).targets;
    expect(t?.basePaths).toEqual(["ledger", "v2/orders"]);
    for (const bad of ["../x", "a b", "a\r\nb", "a/./b", "%2e%2e"]) {
      expect(() => resolveSettings({ domain: "d.example.com", basePaths: [bad] }, {}, {})).toThrow(
        UsageError,
      );
    }
  });

  it("wants --api-id and --stage together with a domain", () => {
    expect(() => resolveSettings({ domain: "d.example.com", apiId: "a1b2c3d4e5" }, {}, {})).toThrow(
      /together/,
    );
  });

  it("reads a file target with a domain and base paths, and requires the endpoint otherwise", () => {
    const file = parseConfigText(
      `targets:\n  - name: ledger\n    domain: ledger.intra.example.com\n    basePaths: [ledger]\n    endpoint: ${ENDPOINT}\n`,
      "c.yaml",
    );
    const [t] = resolveSettings({}, {}, file).targets;
    expect(t).toMatchObject({ mode: "domain", basePaths: ["ledger"], endpoint: ENDPOINT });
    expect(() =>
      parseConfigText("targets:\n  - name: x\n    apiId: a1b2c3d4e5\n", "c.yaml"),
    ).toThrow(/targets\[0\]\.endpoint: required \(unless domain is given\)/);
  });

  it("reads APIGW_DIAG_DOMAIN and APIGW_DIAG_BASE_PATHS", () => {
    const env = envOverrides({ APIGW_DIAG_DOMAIN: "d.example.com", APIGW_DIAG_BASE_PATHS: "a,b" });
    expect(resolveSettings({}, env, {}).targets[0]).toMatchObject({
      domain: "d.example.com",
      basePaths: ["a", "b"],
    });
  });

  it("refuses --mode domain without --domain", () => {
    expect(() => resolveSettings({ ...cli, mode: "domain" }, {}, {})).toThrow(/needs --domain/);
  });
});
