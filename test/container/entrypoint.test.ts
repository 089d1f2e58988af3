// The container's entrypoint (scripts/container-entrypoint.sh, /usr/local/bin/apigw-diag in the
// image), run as it is by sh with this machine's real node: a --require preload prints the flags
// node was started with, then exits.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SCRIPT = join(ROOT, "scripts/container-entrypoint.sh");

/** The Dockerfile's value of ENV `name`. */
function dockerEnv(name: string): string {
  const m = new RegExp(`${name}="([^"]*)"`).exec(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
  if (!m) throw new Error(`Dockerfile: no ${name}`);
  return m[1]!;
}
const NODE_FLAGS = dockerEnv("APIGW_DIAG_DAEMON_NODE_FLAGS").split(" ");

const dir = mkdtempSync(join(tmpdir(), "apigw-diag-entrypoint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const preload = join(dir, "print.cjs");
writeFileSync(
  preload,
  `process.stdout.write(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(1) }));
process.exit(0);`,
);

interface Started {
  execArgv: string[];
  argv: string[];
  stderr: string;
}

/** Runs the entrypoint with `args`, as the image's ENV sets it. */
function start(args: string[], env: Record<string, string | undefined> = {}): Started {
  const r = spawnSync("sh", [SCRIPT, ...args], {
    encoding: "utf8",
    env: {
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      APIGW_DIAG_APP: ROOT,
      APIGW_DIAG_DAEMON_NODE_FLAGS: NODE_FLAGS.join(" "),
      NODE_OPTIONS: `--require=${preload}`,
      ...env,
    },
  });
  expect(r.status, r.stderr).toBe(0);
  return { ...(JSON.parse(r.stdout) as Omit<Started, "stderr">), stderr: r.stderr };
}

describe("the container's entrypoint", () => {
  it("gives the daemon the image's node flags", () => {
    const s = start(["daemon", "--config", "/etc/apigw-diag/config.yaml"]);
    expect(s.execArgv).toEqual(NODE_FLAGS);
    expect(s.argv).toEqual([
      join(ROOT, "dist/cli.js"),
      "daemon",
      "--config",
      "/etc/apigw-diag/config.yaml",
    ]);
    expect(s.stderr).toBe("");
  });

  it("starts the daemon without the flags, with one warning, when node rejects one", () => {
    const s = start(["daemon", "--config", "c.yaml"], {
      APIGW_DIAG_DAEMON_NODE_FLAGS: `${NODE_FLAGS.join(" ")} --no-such-v8-flag-of-apigw-diag`,
    });
    expect(s.execArgv).toEqual([]);
    expect(s.argv.slice(1)).toEqual(["daemon", "--config", "c.yaml"]);
    const lines = s.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^apigw-diag: warning: node v\d+.* rejects .*--no-such-v8-flag/);
  });

  it("lets an operator drop them, and starts every other command on plain node", () => {
    expect(start(["daemon"], { APIGW_DIAG_DAEMON_NODE_FLAGS: "" }).execArgv).toEqual([]);
    const s = start(["diagnose", "--endpoint", "x"]);
    expect(s.execArgv).toEqual([]);
    expect(s.argv.slice(1)).toEqual(["diagnose", "--endpoint", "x"]);
  });
});
