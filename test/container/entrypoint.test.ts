// The container's entrypoint (scripts/container-entrypoint.sh, /usr/local/bin/apigw-diag in the
// image), run as it is by sh with this machine's real node: a --require preload prints the flags
// node was started with and the environment the daemon would see, then exits.
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
const LEAN_FLAGS = dockerEnv("APIGW_DIAG_DAEMON_LEAN_FLAGS").split(" ");

const dir = mkdtempSync(join(tmpdir(), "apigw-diag-entrypoint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const preload = join(dir, "print.cjs");
writeFileSync(
  preload,
  `process.stdout.write(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(1),
    trim: process.env.MALLOC_TRIM_THRESHOLD_ ?? null }));
process.exit(0);`,
);

interface Started {
  execArgv: string[];
  argv: string[];
  trim: string | null;
}

/** Runs the entrypoint with `args`, as the image's ENV sets it, on node line `nodeVersion`. */
function start(args: string[], env: Record<string, string | undefined> = {}): Started {
  const r = spawnSync("sh", [SCRIPT, ...args], {
    encoding: "utf8",
    env: {
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      APIGW_DIAG_APP: ROOT,
      APIGW_DIAG_DAEMON_NODE_FLAGS: NODE_FLAGS.join(" "),
      APIGW_DIAG_DAEMON_LEAN_FLAGS: LEAN_FLAGS.join(" "),
      APIGW_DIAG_DAEMON_ENV: dockerEnv("APIGW_DIAG_DAEMON_ENV"),
      NODE_OPTIONS: `--require=${preload}`,
      ...env,
    },
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Started;
}
/** The node flags the entrypoint gave, without the preload (NODE_OPTIONS is not in execArgv). */
const flags = (s: Started) => s.execArgv;

describe("the container's entrypoint", () => {
  it("gives the daemon the lean flags on Node 22 and later", () => {
    for (const version of ["22.23.5", "24.1.0", "30.0.0"]) {
      const s = start(["daemon", "--config", "/etc/apigw-diag/config.yaml"], {
        NODE_VERSION: version,
      });
      expect(flags(s)).toEqual([...NODE_FLAGS, ...LEAN_FLAGS]);
      expect(s.argv).toEqual([
        join(ROOT, "dist/cli.js"),
        "daemon",
        "--config",
        "/etc/apigw-diag/config.yaml",
      ]);
      expect(s.trim).toBe("131072");
    }
  });

  it("leaves them out on Node 20 and when the line is unknown", () => {
    for (const version of ["20.19.0", "21.7.3", "8.0.0", undefined]) {
      const s = start(["daemon"], { NODE_VERSION: version });
      expect(flags(s)).toEqual(NODE_FLAGS);
    }
  });

  it("lets an operator drop them, and starts every other command with --liftoff-only", () => {
    expect(
      flags(start(["daemon"], { NODE_VERSION: "22.1.0", APIGW_DIAG_DAEMON_LEAN_FLAGS: "" })),
    ).toEqual(NODE_FLAGS);
    const s = start(["diagnose", "--endpoint", "x"], { NODE_VERSION: "22.1.0" });
    expect(flags(s)).toEqual(["--liftoff-only"]);
    expect(s.argv.slice(1)).toEqual(["diagnose", "--endpoint", "x"]);
    expect(s.trim).toBeNull();
  });
});
