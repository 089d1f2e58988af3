import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { daemonSettingsLoader } from "../../src/commands/daemon.js";
import type { ParsedArgs } from "../../src/config/from-args.js";

// The daemon's own loader: what it reads its settings with at start and at every SIGHUP. The
// one-shot's is the same (config/from-args.ts).
const loadSettings = async (args: ParsedArgs, env: NodeJS.ProcessEnv) =>
  (await daemonSettingsLoader(args, env))();
import { resolveSettings } from "../../src/config/load.js";
import { readConfigFile } from "../../src/config/file.js";
import { UsageError } from "../../src/types.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "apigw-daemon-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string, ext = "yaml"): string {
  const f = path.join(dir, `c${n++}.${ext}`);
  writeFileSync(f, text);
  return f;
}

const TARGET = `
targets:
  - name: orders
    endpoint: vpce-0123456789abcdef-abcd1234.execute-api.us-east-1.vpce.amazonaws.com
    apiId: a1b2c3d4e5
    stages: [prod, v2]
`;
const GOOD = `
timeout: 2s
resolvers: ["127.0.0.1:5353"]
compareOs: false
daemon:
  interval: 30s
  listen: 127.0.0.1:9999
  jitter: 0.2
  maxConcurrentTargets: 2
${TARGET}`;

function loadError(text: string, ext = "yaml"): string {
  try {
    resolveSettings({}, {}, readConfigFile(file(text, ext)));
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error("the config loaded");
}

describe("daemon config file", () => {
  it("loads a valid YAML file with its daemon section", () => {
    const s = resolveSettings({}, {}, readConfigFile(file(GOOD)));
    expect(s.daemon).toEqual({
      intervalMs: 30_000,
      listen: { host: "127.0.0.1", port: 9999 },
      jitter: 0.2,
      maxConcurrentTargets: 2,
      maxConcurrentProbes: 8,
    });
    expect(s.targets.map((t) => [t.name, t.stages, t.timeoutMs, t.compareOs])).toEqual([
      ["orders", ["prod", "v2"], 2000, false],
    ]);
  });

  it("loads the same config as JSON", () => {
    const json = JSON.stringify({
      compareOs: false,
      resolvers: ["127.0.0.1"],
      daemon: { interval: "5s", listen: "127.0.0.1:0" },
      targets: [
        {
          name: "orders",
          endpoint: "vpce-0123456789abcdef-abcd1234.execute-api.us-east-1.vpce.amazonaws.com",
          apiId: "a1b2c3d4e5",
          stages: ["prod"],
        },
      ],
    });
    const s = resolveSettings({}, {}, readConfigFile(file(json, "json")));
    expect(s.daemon.intervalMs).toBe(5000);
    expect(s.daemon.listen).toEqual({ host: "127.0.0.1", port: 0 });
  });

  it.each([
    ["a target without apiId", TARGET.replace(/ {4}apiId.*\n/, ""), /targets\[0\]\.apiId/],
    ["an unknown daemon key", `daemon:\n  listn: 1.2.3.4:1\n${TARGET}`, /daemon: .*listn/],
    ["a jitter above 1", `daemon:\n  jitter: 2\n${TARGET}`, /daemon\.jitter/],
    [
      "a zero maxConcurrentTargets",
      `daemon:\n  maxConcurrentTargets: 0\n${TARGET}`,
      /daemon\.maxConcurrentTargets/,
    ],
    [
      "an interval that is not a duration",
      `daemon:\n  interval: soon\n${TARGET}`,
      /interval: "soon" is not a duration/,
    ],
    [
      "a listen address without a port",
      `daemon:\n  listen: localhost\n${TARGET}`,
      /listen: "localhost" is not host:port/,
    ],
    ["a bad stage name", TARGET.replace("[prod, v2]", '["pr od"]'), /stage: "pr od"/],
    [
      "two targets with one name",
      `${TARGET}  - name: orders\n    endpoint: x.example\n    apiId: a1b2c3d4e5\n    stages: [p]\n`,
      /names must be unique/,
    ],
    ["broken YAML", "targets: [\n", /not valid YAML or JSON/],
    ["no targets", "timeout: 5s\n", /nothing to diagnose/],
    [
      "a module with an endpoint (/probe's target gives it)",
      `modules:\n  orders: { apiId: a1b2c3d4e5, stages: [prod], endpoint: x.example }\n`,
      /modules\.orders: .*endpoint/,
    ],
    [
      "a module with a bad API id",
      `modules:\n  orders: { apiId: NOPE, stages: [prod] }\n`,
      /modules\.orders: api id: "NOPE"/,
    ],
    [
      "a module with a bad header",
      `modules:\n  orders: { apiId: a1b2c3d4e5, stages: [prod], headers: { "x-a": "1\\r\\nx: 2" } }\n`,
      /modules\.orders: header x-a: value contains control characters/,
    ],
    [
      "a module with a domain that is not a DNS name",
      `modules:\n  orders: { apiId: a1b2c3d4e5, stages: [prod], domains: ["a b.example"] }\n`,
      /modules\.orders: domain: "a b.example" is not a valid DNS name/,
    ],
    [
      "a module name that would not survive a query string",
      `modules:\n  "a&b": { apiId: a1b2c3d4e5, stages: [prod] }\n`,
      /modules: "a&b" is not a module name/,
    ],
    [
      "a domain-mode module without domains",
      `modules:\n  orders: { mode: domain, basePaths: [x] }\n`,
      /modules\.orders: mode domain: list the custom domains/,
    ],
    [
      "a module with a domain of its own (/probe's target gives it)",
      `modules:\n  orders: { domain: a.example, basePaths: [x] }\n`,
      /modules\.orders: .*domain/,
    ],
    [
      "a zero maxConcurrentProbes",
      `daemon:\n  maxConcurrentProbes: 0\n${TARGET}`,
      /daemon\.maxConcurrentProbes/,
    ],
  ])("rejects %s with a message naming the field", (_what, text, message) => {
    expect(loadError(text)).toMatch(message);
  });

  it("loads a config with only modules, for a daemon that answers /probe", () => {
    const s = resolveSettings(
      {},
      {},
      readConfigFile(
        file(`modules:\n  orders: { apiId: a1b2c3d4e5, stages: [prod, v2], timeout: 2s }\n`),
      ),
    );
    expect(s.targets).toEqual([]);
    expect(s.modules.names()).toEqual(["orders"]);
    const endpoint = "vpce-0123456789abcdef-abcd1234.execute-api.eu-west-1.vpce.amazonaws.com";
    expect(s.modules.target("orders", endpoint)).toMatchObject({
      name: endpoint,
      endpoint,
      apiId: "a1b2c3d4e5",
      stages: ["prod", "v2"],
      timeoutMs: 2000,
    });
  });

  it("loads a module made only of custom domains, each prepared for domain mode", () => {
    const s = resolveSettings(
      {},
      {},
      readConfigFile(
        file(`modules:\n  shop: { basePaths: [shop], domains: [Shop.Example.com] }\n`),
      ),
    );
    expect(s.modules.target("shop", "shop.example.com")).toMatchObject({
      name: "shop.example.com",
      mode: "domain",
      domain: "shop.example.com",
      basePaths: ["shop"],
    });
    expect(() => s.modules.target("shop", "other.example.com")).toThrow(/nor a domain module/);
  });

  it("refuses a modules-only config for diagnose, with one line and exit 3", () => {
    const f = file(`modules:\n  orders: { apiId: a1b2c3d4e5, stages: [prod] }\n`);
    const r = spawnSync(process.execPath, ["dist/cli.js", "diagnose", "--config", f], {
      encoding: "utf8",
      timeout: 10_000,
      env: { ...process.env, APIGW_DIAG_CONFIG: "" },
    });
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/nothing to diagnose: the config has modules .* but no targets/);
  });

  it("names an unreadable file and why", () => {
    expect(() => readConfigFile(path.join(dir, "missing.yaml"))).toThrow(/cannot read \(ENOENT\)/);
  });

  it("takes flags over environment over file over defaults", async () => {
    const f = file(`daemon:\n  interval: 30s\n  listen: 127.0.0.1:9001\n${TARGET}`);
    const env = { APIGW_DIAG_INTERVAL: "20s", APIGW_DIAG_LISTEN: "127.0.0.1:9002" };
    const daemonOf = async (args: object, e: NodeJS.ProcessEnv) =>
      (await loadSettings({ config: f, ...args }, e)).daemon;
    expect(await daemonOf({ interval: "10s", listen: "127.0.0.1:9003" }, env)).toMatchObject({
      intervalMs: 10_000,
      listen: { port: 9003 },
    });
    expect(await daemonOf({}, env)).toMatchObject({ intervalMs: 20_000, listen: { port: 9002 } });
    expect(await daemonOf({}, {})).toMatchObject({ intervalMs: 30_000, listen: { port: 9001 } });
    const bare = file(TARGET);
    expect((await loadSettings({ config: bare }, {})).daemon).toMatchObject({
      intervalMs: 60_000,
      listen: { host: "0.0.0.0", port: 9464 },
    });
  });

  it("finds the config file through APIGW_DIAG_CONFIG", async () => {
    const f = file(GOOD);
    expect((await loadSettings({}, { APIGW_DIAG_CONFIG: f })).daemon.intervalMs).toBe(30_000);
  });

  it("reads the file anew at every call, as a SIGHUP reload does", async () => {
    const f = file(GOOD);
    const load = await daemonSettingsLoader({ config: f }, {});
    expect((await load()).daemon.intervalMs).toBe(30_000);
    writeFileSync(f, GOOD.replace("interval: 30s", "interval: 45s"));
    expect((await load()).daemon.intervalMs).toBe(45_000);
    // A file broken since start is refused with its one-line reason, for the daemon to log.
    writeFileSync(f, `daemon:\n  jitter: 5\n${TARGET}`);
    await expect(load()).rejects.toThrow(UsageError);
    await expect(load()).rejects.toThrow(/daemon\.jitter/);
  });

  it("refuses a FIFO at once instead of waiting for a writer", async () => {
    const fifo = path.join(dir, "fifo.yaml");
    execFileSync("mkfifo", [fifo]);
    await expect(loadSettings({ config: fifo }, {})).rejects.toThrow(/not a regular file/);
  });

  it("makes the daemon command exit 3 with one line naming the field", () => {
    const bad = file(`daemon:\n  jitter: 5\n${TARGET}`);
    const r = spawnSync(process.execPath, ["dist/cli.js", "daemon", "--config", bad], {
      encoding: "utf8",
      timeout: 10_000,
      env: { ...process.env, APIGW_DIAG_CONFIG: "" },
    });
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^apigw-diag: config .*: daemon\.jitter: /);
    expect(r.stdout).toBe("");
  });
});
