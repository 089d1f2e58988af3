// What the bin loads: `--version` answers before any command's modules are loaded.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliEnv } from "./run-cli.js";

const PRELOAD = "./test/fixtures/modules-loaded.cjs";

const tmp = mkdtempSync(path.join(os.tmpdir(), "apigw-diag-builtins-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The built-in modules node loaded running `argv` (its stdout checked by `check`). */
function builtinsLoaded(argv: string[], check: (stdout: string) => void): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--require", PRELOAD, ...argv],
      { env: cliEnv(), timeout: 20_000 },
      (err, stdout, stderr) => {
        if (err) return reject(err);
        check(stdout);
        const line = stderr.split("\n").find((l) => l.startsWith('{"builtinsLoaded"'));
        resolve((JSON.parse(line ?? "{}") as { builtinsLoaded: string[] }).builtinsLoaded);
      },
    );
  });
}

/** What node loads for an empty ES module main, as the bin is. */
function baseline(): Promise<string[]> {
  const main = path.join(tmp, "empty.mjs");
  writeFileSync(main, "");
  return builtinsLoaded([main], () => {});
}

describe("apigw-diag --version", () => {
  it("loads nothing a command needs: no sockets, no TLS, no streams", async () => {
    const before = await baseline();
    const loaded = (
      await builtinsLoaded(["dist/cli.js", "--version"], (stdout) =>
        expect(stdout).toMatch(/^\d+\.\d+\.\d+/),
      )
    ).filter((m) => !before.includes(m));
    for (const unneeded of ["tls", "net", "stream", "dgram", "http"])
      expect(loaded).not.toContain(unneeded);
  });
});
