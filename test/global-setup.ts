// Runs once per test run, before any worker starts (workers inherit its environment).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * A cache home of the run's own: the CLI turns on Node's compile cache (Node >= 22.1) under
 * $XDG_CACHE_HOME, else ~/.cache, and a test run must not write the user's home. Every CLI a
 * test starts gets it (test/run-cli.ts `cliEnv`); it is removed when the run ends.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(path.join(os.tmpdir(), "apigw-diag-test-cache-"));
  process.env.XDG_CACHE_HOME = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
