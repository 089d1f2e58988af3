// The built CLI as a user runs it, with loopback-only settings in its environment.
import { execFile } from "node:child_process";
import type { Simulator } from "../src/simulator/index.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a CLI a test starts: PATH, the run's own cache home (test/global-setup.ts:
 * never the user's ~/.cache) and `extra`; nothing else of the environment running the tests.
 */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME, ...extra };
}

/** Runs the built CLI with `node` (default: the Node running the tests). */
export function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  node = process.execPath,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      node,
      ["dist/cli.js", ...args],
      {
        // Never the machine's resolver: tests talk to loopback only.
        env: cliEnv({ APIGW_DIAG_COMPARE_OS: "false", ...env }),
        timeout: 20_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * `diagnose` and the flags that point the built CLI at a simulator on loopback (never the
 * system's resolver, never the OS lookup); callers add the timeout and anything else.
 */
export function diagnoseFlags(
  sim: Simulator,
  opts: { stages?: string[]; trustCa?: boolean } = {},
): string[] {
  return [
    "diagnose",
    `--endpoint=${sim.endpoint}`,
    `--api-id=${sim.apiId}`,
    ...(opts.stages ?? ["prod"]).map((stage) => `--stage=${stage}`),
    `--resolver=127.0.0.1:${sim.dns.port}`,
    `--port=${sim.port}`,
    ...(opts.trustCa === false ? [] : [`--ca-file=${sim.caFile}`]),
    "--private-cidr=127.0.0.0/8",
    // Where loopback holds 127.0.0.1 alone (macOS), the simulator's second AZ is ::1.
    "--private-cidr=::1/128",
    "--no-compare-os",
  ];
}

/**
 * A `node` of the container's line (Node 22, which has what Node 20 lacks, such as the compile
 * cache): `.ci/run` installs one from the npm registry and names it in APIGW_DIAG_TEST_NODE.
 * Under CI it must be there.
 */
export function containerNode(): string | undefined {
  const node = process.env.APIGW_DIAG_TEST_NODE;
  if (!node && process.env.CI === "true")
    throw new Error("CI=true but APIGW_DIAG_TEST_NODE is unset: .ci/run installs that node");
  return node || undefined;
}
