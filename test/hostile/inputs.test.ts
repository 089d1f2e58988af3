// Every flag, variable and config field that reaches the network is validated: injection
// (CR/LF, control bytes, dot segments) is refused with exit 3 and one clear line, before any
// packet is sent.
import { describe, expect, it } from "vitest";
import { resolveSettings } from "../../src/config/load.js";
import { parseConfigText } from "../../src/config/file.js";
import { UsageError } from "../../src/types.js";
import { cli } from "../run-cli.js";

const ENDPOINT = "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com";
// Valid everywhere; port 9 on loopback answers nothing useful, if a case were not refused.
const BASE: Record<string, string> = {
  endpoint: ENDPOINT,
  "api-id": "a1b2c3d4e5",
  stage: "prod",
  resolver: "127.0.0.1:9",
  timeout: "300ms",
  format: "json",
};

function args(over: Record<string, string | undefined>): string[] {
  const all = { ...BASE, ...over };
  return [
    "diagnose",
    "--no-compare-os",
    ...Object.entries(all)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `--${k}=${v}`),
  ];
}

async function refused(argv: string[], env: NodeJS.ProcessEnv, why: RegExp): Promise<void> {
  const r = await cli(argv, env);
  expect(r.code, r.stderr).toBe(3);
  expect(r.stdout).toBe("");
  const lines = r.stderr.split("\n").filter(Boolean);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^apigw-diag: /);
  expect(lines[0]).toMatch(why);
  expect(lines[0]).not.toMatch(/internal error|at .*\.js:\d+/);
}

const FLAG_CASES: [string, string, RegExp][] = [
  ["endpoint", "bad..name.example", /endpoint: .* is not a valid DNS name/],
  ["endpoint", `${ENDPOINT}\r\nx-injected: 1`, /endpoint: .* is not a valid DNS name/],
  ["endpoint", "evil.example/path", /endpoint: .* is not a valid DNS name/],
  ["endpoint", "a".repeat(64) + ".example", /not a valid DNS name/],
  ["api-id", "A1B2C3D4E5", /api id: .* is not an API Gateway id/],
  ["api-id", "a1b2c3d4e5\r\nx-injected: 1", /api id/],
  ["stage", "pr od", /stage: .* is not a valid stage name/],
  ["stage", "prod/../v2", /stage: .* is not a valid stage name/],
  ["stage", "%2e%2e", /stage: .* is not a valid stage name/],
  ["stage", "prod\r\nx-injected: 1", /stage: .* is not a valid stage name/],
  ["stage", "prödüction", /stage: .* is not a valid stage name/],
  ["stage", "s".repeat(129), /stage: .* is not a valid stage name/],
  ["path", "no-slash", /path: .* must start with \//],
  ["path", "/a b", /path: .* only URL characters/],
  ["path", "/x HTTP/1.1\r\nx-injected: 1\r\n", /path: .* only URL characters/],
  ["path", "/a#frag", /path: .* only URL characters/],
  ["path", "/../v2/", /path: .* "\." or "\.\." segments/],
  ["path", "/%2e%2E/v2/", /path: .* "\." or "\.\." segments/],
  ["path", "/a/./b", /path: .* "\." or "\.\." segments/],
  ["header", "x-foo: a\r\nhost: evil.example", /header x-foo: value contains control characters/],
  ["header", "x-foo\r\nhost: evil", /header: invalid header name/],
  ["header", "x-foo: \u0001", /header x-foo: value contains control characters/],
  ["header", "host: evil.example", /header: host is set by apigw-diag itself/],
  ["header", "X-Apigw-Api-Id: zzzzzzzzzz", /header: x-apigw-api-id is set by apigw-diag/],
  ["header", "no colon here", /--header: expected 'name: value'/],
  ["header", "bad name: v", /header: invalid header name/],
  ["port", "0", /port: 0 is not a TCP\/UDP port/],
  ["port", "65536", /port: 65536 is not a TCP\/UDP port/],
  ["port", "abc", /--port: not a number/],
  ["port", "443.5", /port: 443.5 is not a TCP\/UDP port/],
  ["timeout", "0ms", /timeout: duration must be between 1ms and 24h/],
  ["timeout", "25h", /timeout: duration must be between/],
  ["timeout", "-1s", /timeout: "-1s" is not a duration/],
  ["timeout", "5 years", /timeout: "5 years" is not a duration/],
  ["resolver", "dns.google", /resolver: "dns.google" is not an IP address/],
  ["resolver", "127.0.0.1:0", /resolver port: 0 is not a TCP\/UDP port/],
  ["resolver", "127.0.0.1:99999", /resolver port: 99999/],
  ["resolver", "127.0.0.1\r\n", /resolver: .* is not an IP address/],
  ["private-cidr", "10.0.0.0/33", /privateCidrs: "10.0.0.0\/33" is not a CIDR/],
  ["private-cidr", "anything", /privateCidrs: "anything" is not a CIDR/],
  ["concurrency", "0", /--concurrency: a whole number from 1 to 1024/],
  ["expect-status", "999", /--expect-status: HTTP status codes/],
  ["mode", "bogus", /Invalid values: Argument: mode, Given: "bogus"/],
  ["format", "xml", /Invalid values: Argument: format, Given: "xml"/],
  ["ca-file", "/nonexistent/ca.pem", /--ca-file \/nonexistent\/ca.pem: cannot read \(ENOENT\)/],
  ["log-level", "loud", /log level: "loud" is not one of/],
];

describe.concurrent("flags that would reach the network are refused with exit 3", () => {
  it.each(FLAG_CASES)("--%s=%j", async (flag, value, why) => {
    await refused(args({ [flag]: value }), {}, why);
  });
});

const ENV_CASES: [string, string, RegExp][] = [
  ["APIGW_DIAG_CONCURRENCY", "0", /concurrency: 0 is not a whole number from 1 to 1024/],
  ["APIGW_DIAG_EXPECT_STATUS", "200,700", /expect status: 700 is not an HTTP status/],
  ["APIGW_DIAG_LISTEN", "bad host:9464", /listen host: "bad host" is not a valid DNS name/],
  ["APIGW_DIAG_LISTEN", "0.0.0.0:70000", /listen port: 70000/],
  ["APIGW_DIAG_LISTEN", "9464", /listen: "9464" is not host:port/],
  ["APIGW_DIAG_HEADERS", "x-a: b\rx-b: c", /header x-a: value contains control characters/],
  ["APIGW_DIAG_PORT", "443x", /APIGW_DIAG_PORT: "443x" is not a number/],
  ["APIGW_DIAG_TIMEOUT", "forever", /timeout: "forever" is not a duration/],
  ["APIGW_DIAG_INSECURE", "maybe", /APIGW_DIAG_INSECURE: "maybe" is not a boolean/],
  ["APIGW_DIAG_MODE", "proxy", /APIGW_DIAG_MODE: header, host, alias or domain/],
  ["APIGW_DIAG_FAMILY", "ipv7", /APIGW_DIAG_FAMILY: auto, 4 or 6/],
  ["APIGW_DIAG_STAGES", "prod,v2\r\nx-injected: 1", /stage: .* is not a valid stage name/],
  ["APIGW_DIAG_LOG_LEVEL", "verbose", /log level: "verbose"/],
];

describe.concurrent("environment variables are validated like flags", () => {
  it.each(ENV_CASES)("%s=%j", async (name, value, why) => {
    // The flag would win over the variable: leave it out.
    const flag = { APIGW_DIAG_STAGES: "stage", APIGW_DIAG_TIMEOUT: "timeout" }[name];
    const over = flag ? { [flag]: undefined } : {};
    await refused(args(over), { [name]: value }, why);
  });
});

/** A config file with one valid target, and `extra` merged at the top or in the target. */
function config(top: Record<string, unknown>, target: Record<string, unknown> = {}): string {
  return JSON.stringify({
    resolvers: ["127.0.0.1:9"],
    ...top,
    targets: [{ endpoint: ENDPOINT, apiId: "a1b2c3d4e5", stages: ["prod"], ...target }],
  });
}

const CONFIG_CASES: [string, string, RegExp][] = [
  ["a target name with a line break", config({}, { name: "orders\nFAKE LINE" }), /target name/],
  ["a target name with an escape", config({}, { name: "\u001b[2Jorders" }), /target name/],
  ["a header value with CR/LF", config({}, { headers: { "x-a": "b\r\nhost: x" } }), /header x-a/],
  ["a header name with a space", config({}, { headers: { "x a": "b" } }), /invalid header name/],
  ["a stage with a slash", config({}, { stages: ["a/b"] }), /stage/],
  ["a path with dot segments", config({}, { path: "/%2E./x" }), /"\." or "\.\." segments/],
  ["port 0", config({ port: 0 }), /port: 0/],
  ["a resolver name", config({ resolvers: ["ns.example"] }), /resolver/],
  ["a bad CIDR", config({ privateCidrs: ["10.0.0.0/8x"] }), /not a CIDR/],
  ["status 99", config({}, { expectStatus: [99] }), /expectStatus/],
  ["a bad duration", config({ timeout: "fast" }), /timeout/],
  ["a bad listen host", config({ daemon: { listen: "a\r\nb:1" } }), /listen/],
  ["a jitter above 1", config({ daemon: { jitter: 2 } }), /daemon\.jitter/],
  ["an unknown field", config({ timeuot: "5s" }), /Unrecognized key/],
  ["concurrency 0", config({ concurrency: 0 }), /concurrency/],
  [
    "secret not a boolean",
    config({}, { headers: { "x-a": { value: "v", secret: "yes" } } }),
    /headers\.x-a/,
  ],
];

describe("the config loader refuses what the flags refuse", () => {
  it.each(CONFIG_CASES)("refuses %s", (_what, text, why) => {
    let error: unknown;
    try {
      resolveSettings({}, {}, parseConfigText(text, "test.json"));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message).not.toContain("\n");
  });

  it("refuses a bad config file through the CLI with exit 3 and one line", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "apigw-diag-inputs-"));
    try {
      const file = join(dir, "c.json");
      writeFileSync(file, config({}, { headers: { "x-a": "b\r\nhost: x" } }));
      await refused(["diagnose", `--config=${file}`], {}, /header x-a: value contains control/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("stage names and paths in the request line", () => {
  const target = (stage: string, path: string) =>
    resolveSettings(
      { endpoint: ENDPOINT, apiId: "a1b2c3d4e5", stages: [stage], path, resolvers: ["127.0.0.1"] },
      {},
      {},
    ).targets[0]!;

  it("accepts every character API Gateway allows in a stage and needs no encoding for it", () => {
    const plan = target("Prod_v2-beta", "/items/a%20b?x=1&y=%2F");
    expect(plan.requests[0]?.path).toBe("/Prod_v2-beta/items/a%20b?x=1&y=%2F");
  });

  it("refuses any stage that would need encoding rather than encoding it", () => {
    for (const stage of ["a b", "a/b", "a%2Fb", "a?b", "a#b", "é"])
      expect(() => target(stage, "/")).toThrow(/not a valid stage name/);
  });
});
