// The daemon's config loader reads the file in a child process (the built dist/config-worker.js):
// what it answers, and that a file which never finishes reading costs one timeout, not a hang.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isolatedSettingsLoader } from "../../src/config/isolated.js";
import { UsageError } from "../../src/types.js";

const WORKER = new URL("../../dist/config-worker.js", import.meta.url);
const dir = mkdtempSync(path.join(tmpdir(), "apigw-isolated-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ENDPOINT = "vpce-0123456789abcdef0-abcd1234.execute-api.us-east-1.vpce.amazonaws.com";

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("the daemon's config reader, a child process", () => {
  it("answers a YAML config's targets", async () => {
    const config = file(
      "good.yaml",
      `resolvers: [10.0.0.2]\ntargets:\n  - name: orders\n    endpoint: ${ENDPOINT}\n    apiId: a1b2c3d4e5\n    stages: [prod, v2]\n`,
    );
    const settings = await isolatedSettingsLoader({ config }, {}, WORKER)();
    expect(settings.targets.map((t) => [t.name, t.apiId, t.stages])).toEqual([
      ["orders", "a1b2c3d4e5", ["prod", "v2"]],
    ]);
  });

  it("is not disturbed by a NODE_OPTIONS preload that writes to stdout", async () => {
    const config = file(
      "plain.yaml",
      `resolvers: [10.0.0.2]\ntargets:\n  - name: a\n    endpoint: ${ENDPOINT}\n    apiId: a1b2c3d4e5\n    stages: [prod]\n`,
    );
    const preload = file("noisy.cjs", 'process.stdout.write("not JSON");\n');
    const before = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `--require ${preload}`;
    try {
      const settings = await isolatedSettingsLoader({ config }, {}, WORKER)();
      expect(settings.targets.map((t) => t.name)).toEqual(["a"]);
    } finally {
      if (before === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = before;
    }
  });

  it("turns a config that does not validate into one line of usage error", async () => {
    const config = file("bad.yaml", "targets: 7\n");
    const err = await isolatedSettingsLoader({ config }, {}, WORKER)().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^config .*bad\.yaml: /);
    expect((err as Error).message).not.toContain("\n");
  });

  it("says so for a file that cannot be read", async () => {
    const config = path.join(dir, "absent.yaml");
    await expect(isolatedSettingsLoader({ config }, {}, WORKER)()).rejects.toThrow(
      /cannot read \(ENOENT\)/,
    );
  });

  it("gives up on a file that never finishes reading after one timeout (a FIFO)", async () => {
    const fifo = path.join(dir, "stalled.fifo");
    execFileSync("mkfifo", [fifo]);
    const started = performance.now();
    const err = await isolatedSettingsLoader({ config: fifo }, {}, WORKER, 500)().catch(
      (e: unknown) => e,
    );
    const took = performance.now() - started;
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(`config ${fifo}: not read within 500 ms`);
    // The bound is the behaviour: about one timeout, with room for a shared machine.
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(5_000);
  });
});
