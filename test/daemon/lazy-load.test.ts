import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

// `diagnose` must not pay for the daemon: prom-client (CommonJS, so visible in require.cache)
// and the status server are loaded only by the daemon command.
const SCRIPT = `
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const promClient = () => Object.keys(require.cache).filter((k) => k.includes("/node_modules/prom-client/")).length;
await import("./dist/commands/diagnose.js");
const afterDiagnose = promClient();
await import("./dist/daemon/index.js");
console.log(JSON.stringify({ afterDiagnose, afterDaemon: promClient() }));
`;

describe("lazy loading", () => {
  it("does not load prom-client with the diagnose command, only with the daemon", () => {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", SCRIPT], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.stderr).toBe("");
    const loaded = JSON.parse(r.stdout) as { afterDiagnose: number; afterDaemon: number };
    expect(loaded.afterDiagnose).toBe(0);
    expect(loaded.afterDaemon).toBeGreaterThan(0);
  });
});
