import { describe, expect, it } from "vitest";
import { envOverrides } from "../../src/config/env.js";
import { resolveSettings, type Overrides } from "../../src/config/load.js";
import { configSchema, type FileConfig } from "../../src/config/schema.js";
import { UsageError } from "../../src/types.js";

const TARGET: Overrides = {
  endpoint: "vpce-0123456789abcdef0-abcd1234.execute-api.eu-west-3.vpce.amazonaws.com",
  apiId: "a1b2c3d4e5",
  stages: ["prod"],
  resolvers: ["127.0.0.1:53"],
};
const aws = (flags: Overrides, env: Overrides = {}, file: FileConfig = {}) =>
  resolveSettings({ ...TARGET, ...flags }, env, file).targets[0]!.aws;

describe("switching the aws layer on", () => {
  it.each<[string, Overrides, Overrides, FileConfig, unknown]>([
    ["off by default", {}, {}, {}, undefined],
    [
      "--aws: the default chain, refreshed every 10 minutes",
      { aws: true },
      {},
      {},
      { refreshMs: 600_000 },
    ],
    [
      "--aws-profile implies --aws",
      { awsProfile: "ops-readonly" },
      {},
      {},
      { profile: "ops-readonly", refreshMs: 600_000 },
    ],
    ["APIGW_DIAG_AWS", {}, { aws: true }, {}, { refreshMs: 600_000 }],
    [
      "the config's aws block",
      {},
      {},
      { aws: { enabled: true, profile: "p", refresh: "30m" } },
      { profile: "p", refreshMs: 1_800_000 },
    ],
    [
      "a profile in the config alone does not switch it on",
      {},
      {},
      { aws: { profile: "p" } },
      undefined,
    ],
    ["--aws=false wins over the config", { aws: false }, {}, { aws: { enabled: true } }, undefined],
  ])("%s", (_name, flags, env, file, expected) => {
    expect(aws(flags, env, file)).toEqual(expected);
  });

  it("reads APIGW_DIAG_AWS and APIGW_DIAG_AWS_PROFILE", () => {
    expect(envOverrides({ APIGW_DIAG_AWS: "true", APIGW_DIAG_AWS_PROFILE: "ro" })).toMatchObject({
      aws: true,
      awsProfile: "ro",
    });
  });

  it("refuses a bad refresh or profile with one line", () => {
    expect(() => aws({ aws: true }, {}, { aws: { refresh: "soon" } })).toThrow(UsageError);
    expect(() => aws({ awsProfile: "two\nlines" })).toThrow(UsageError);
  });

  it("the config file's aws block is validated: unknown keys are named", () => {
    const r = configSchema.safeParse({ aws: { enabled: true, region: "eu-west-3" } });
    expect(r.success).toBe(false);
  });
});
