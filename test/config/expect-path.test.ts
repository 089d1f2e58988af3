// expectPath from the config file, APIGW_DIAG_EXPECT_* and --expect-source / --expect-interface:
// precedence, normalisation and one-line refusals.
import { describe, expect, it } from "vitest";
import { envOverrides } from "../../src/config/env.js";
import { parseConfigText } from "../../src/config/file.js";
import { flagOverrides } from "../../src/config/from-args.js";
import { resolveSettings } from "../../src/config/load.js";
import { UsageError } from "../../src/types.js";

const ENDPOINT = "vpce-0123456789abcdef0-abcd1234.execute-api.us-east-1.vpce.amazonaws.com";
const cli = { endpoint: ENDPOINT, apiId: "a1b2c3d4e5", stages: ["prod"], resolvers: ["10.0.0.2"] };
const FILE = `expectPath:\n  sources: [10.250.0.0/24]\n  interfaces: [dx0]\ntargets:\n  - name: orders\n    endpoint: ${ENDPOINT}\n    apiId: a1b2c3d4e5\n    stages: [prod]\n    resolvers: [10.0.0.2]\n`;

describe("expectPath", () => {
  it("is absent unless configured", () => {
    expect(resolveSettings(cli, {}, {}).targets[0]?.expectPath).toBeUndefined();
  });

  it("comes from the config file", () => {
    const s = resolveSettings({}, {}, parseConfigText(FILE, "c.yaml"));
    expect(s.targets[0]?.expectPath).toEqual({ sources: ["10.250.0.0/24"], interfaces: ["dx0"] });
  });

  it("comes from the environment, and flags win over it and the file", () => {
    const env = envOverrides({
      APIGW_DIAG_EXPECT_SOURCES: "10.250.0.0/24, 2001:db8:a::10",
      APIGW_DIAG_EXPECT_INTERFACES: "dx0,dx1",
    });
    expect(resolveSettings(cli, env, {}).targets[0]?.expectPath).toEqual({
      sources: ["10.250.0.0/24", "2001:db8:a::10/128"],
      interfaces: ["dx0", "dx1"],
    });
    const flags = flagOverrides({ ...cliArgs(), expectInterface: ["bond0.120"] });
    const s = resolveSettings(flags, env, parseConfigText(FILE, "c.yaml"));
    expect(s.targets[0]?.expectPath).toEqual({
      sources: ["10.250.0.0/24", "2001:db8:a::10/128"],
      interfaces: ["bond0.120"],
    });
  });

  it("accepts a bare address as its own /32", () => {
    const flags = flagOverrides({ ...cliArgs(), expectSource: ["10.250.0.10"] });
    expect(resolveSettings(flags, {}, {}).targets[0]?.expectPath).toEqual({
      sources: ["10.250.0.10/32"],
      interfaces: [],
    });
  });

  it.each([
    [{ expectSource: ["10.250.0.0/33"] }, /expectPath.sources: "10.250.0.0\/33"/],
    [{ expectInterface: ["dx0\n"] }, /expectPath.interfaces/],
  ])("refuses %j in one line", (bad, message) => {
    const flags = flagOverrides({ ...cliArgs(), ...bad });
    expect(() => resolveSettings(flags, {}, {})).toThrow(UsageError);
    expect(() => resolveSettings(flags, {}, {})).toThrow(message);
  });

  it("refuses unknown fields under expectPath", () => {
    expect(() => parseConfigText("expectPath:\n  source: [10.0.0.0/8]\n", "c.yaml")).toThrow(
      /expectPath/,
    );
  });
});

function cliArgs() {
  return { endpoint: ENDPOINT, apiId: "a1b2c3d4e5", stage: ["prod"], resolver: ["10.0.0.2"] };
}
