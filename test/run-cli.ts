// The built CLI as a user runs it, with loopback-only settings in its environment.
import { execFile } from "node:child_process";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["dist/cli.js", ...args],
      {
        // Never the machine's resolver: tests talk to loopback only.
        env: { PATH: process.env.PATH, APIGW_DIAG_COMPARE_OS: "false", ...env },
        timeout: 20_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
