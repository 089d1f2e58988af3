import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
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

describe("the status page", () => {
  it("is a chunk of its own in the bundle, imported only dynamically (when / is asked for)", () => {
    const dir = new URL("../../dist/", import.meta.url);
    const files = readdirSync(dir).filter((f) => /^(cli|chunk-.*)\.js$/.test(f));
    const text = new Map(files.map((f) => [f, readFileSync(new URL(f, dir), "utf8")]));
    const holding = (marker: string) => files.filter((f) => text.get(f)!.includes(marker));
    const [page] = holding("Waiting for the first run.");
    const [daemon] = holding("too many /probe requests running at once");
    expect(page).toMatch(/^chunk-/);
    expect(daemon).toBeDefined();
    expect(page).not.toBe(daemon);
    expect(text.get(daemon!)).toContain(`import("./${page}")`);
    // Nothing imports it statically: it would then load with the daemon (or with diagnose).
    for (const [file, body] of text) {
      const statically = [`from"./${page}"`, `import"./${page}"`].some((m) => body.includes(m));
      expect(statically, file).toBe(false);
    }
  });
});
