// The command line parsed without yargs must give each command exactly what yargs gives it, and
// must hand back to yargs everything yargs would answer with help or an error.
import type { Argv } from "yargs";
import yargs from "yargs";
import { describe, expect, it } from "vitest";
import { commonOptions, daemonOptions, demoOptions, targetOptions } from "../src/cli-options.js";
import { declaredOptions, parseWithoutYargs } from "../src/cli-parse.js";

const COMMANDS: Record<string, (y: Argv) => Argv> = {
  diagnose: targetOptions,
  daemon: daemonOptions,
  demo: demoOptions,
};

/** What yargs makes of `argv`, as src/cli.ts configures it, or its error message. */
async function withYargs(name: string, argv: string[]): Promise<Record<string, unknown>> {
  const build = COMMANDS[name] as (y: Argv) => Argv;
  const y = commonOptions(
    yargs(argv).scriptName(`apigw-diag ${name}`).version("0.0.0").strict().exitProcess(false),
  ).fail((msg, err) => {
    throw err ?? new Error(msg);
  });
  return { ...(await build(y).parseAsync()) };
}

const without = (name: string, argv: string[]) =>
  parseWithoutYargs(
    argv,
    declaredOptions((y) => (COMMANDS[name] as (y: Argv) => Argv)(commonOptions(y))),
    `apigw-diag ${name}`,
  );

const VALID: [string, string[]][] = [
  ["diagnose", []],
  [
    "diagnose",
    ["--endpoint", "vpce-1.execute-api.us-east-1.vpce.amazonaws.com", "--api-id", "abc123"],
  ],
  ["diagnose", ["--endpoint=e", "--api-id=a", "--stage=prod", "--stage", "v2", "--stage", "v3"]],
  ["diagnose", ["--stage", "prod", "v2", "--resolver", "10.0.0.2", "10.0.0.3:53"]],
  ["diagnose", ["--port", "8443", "--timeout", "2s", "--concurrency", "4"]],
  ["diagnose", ["--port", "abc"]], // yargs accepts it as NaN; the config says "not a number"
  ["diagnose", ["--no-compare-os", "--compare-modes", "--insecure"]],
  ["diagnose", ["--compare-os=false", "--no-insecure"]],
  ["diagnose", ["--mode", "alias", "--family", "6", "--format", "json", "--log-level", "debug"]],
  ["diagnose", ["--mode=domain", "--domain", "api.example.com", "--base-path", "/", "v1"]],
  ["diagnose", ["--family", "4", "--format=text"]],
  ["diagnose", ["--header", "x-a: 1", "--header", "x-b: two words", "--path", "/health"]],
  ["diagnose", ["--expect-status", "200", "403", "--private-cidr", "100.64.0.0/10"]],
  ["diagnose", ["--ca-file", "ca.pem", "--config", "c.yaml"]],
  ["diagnose", ["--endpoint", ""]],
  ["daemon", ["--config", "/etc/apigw-diag/config.yaml"]],
  ["daemon", ["--listen", "127.0.0.1:0", "--interval", "5s", "--stage", "prod"]],
  ["demo", []],
  ["demo", ["--timeout", "500ms", "--scenario", "dualstack", "--format", "json"]],
  ["demo", ["--scenario=domain-elsewhere", "--log-level=info"]],
];

// yargs answers each of these with help, its version or an error: never the fast parse.
const TO_YARGS: [string, string[]][] = [
  ["diagnose", ["--help"]],
  ["diagnose", ["-h"]],
  ["diagnose", ["--version"]],
  ["diagnose", ["--endpoint", "e", "--bogus"]],
  ["diagnose", ["-x"]],
  ["diagnose", ["extra"]],
  ["diagnose", ["--mode", "nope"]],
  ["diagnose", ["--mode"]],
  ["diagnose", ["--family", "5"]],
  ["diagnose", ["--format", "yaml"]],
  ["diagnose", ["--listen", "127.0.0.1:0"]], // the daemon's option
  ["daemon", ["--scenario", "strict"]], // the demo's option
  ["demo", ["--scenario", "nope"]],
  ["demo", ["--endpoint", "e"]],
];

// yargs accepts these, but they are rare enough to leave to it.
const RARE: [string, string[]][] = [
  ["diagnose", ["--", "--endpoint", "e"]],
  ["diagnose", ["--apiId", "camel"]],
  ["diagnose", ["--caFile=ca.pem", "--endpoint", "e"]],
];

describe("the command line without yargs", () => {
  it.each(VALID)("%s %j: the same arguments as yargs gives", async (name, argv) => {
    const ours = await without(name, argv);
    expect(ours).toBeDefined();
    expect(ours).toEqual(await withYargs(name, argv));
  });

  it.each([...TO_YARGS, ...RARE])("%s %j: handed to yargs", async (name, argv) => {
    expect(await without(name, argv)).toBeUndefined();
  });

  it("hands to yargs only what yargs itself refuses or answers with help", async () => {
    // The refusals above are refusals of yargs too (help and --version aside, which print).
    for (const [name, argv] of TO_YARGS) {
      if (argv.some((a) => ["--help", "-h", "--version"].includes(a))) continue;
      await expect(withYargs(name, argv), `${name} ${argv.join(" ")}`).rejects.toThrow();
    }
  });
});
