// Node's compile cache lives in a directory only this user can write to, and a home that cannot
// have one never fails a run.
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { rmSync, statSync, writeFileSync } from "node:fs";
import module from "node:module";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { enableCompileCache, privateCacheDir } from "../src/compile-cache.js";
import { startSimulator, type Simulator } from "../src/simulator/index.js";
import { cli, containerNode, diagnoseFlags } from "./run-cli.js";

// module.enableCompileCache exists from Node 22.1. On an older Node running the tests, the CLI
// test runs on the container's line when one is given (.ci/run gives one).
const CACHE_NODE = "enableCompileCache" in module ? process.execPath : containerNode();
const IS_ROOT = process.getuid?.() === 0;
const mode = (p: string) => statSync(p).mode & 0o7777;

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "apigw-diag-cache-"));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("the compile cache directory", () => {
  it("is ~/.cache/apigw-diag, created 0700 with ~/.cache when missing", () => {
    const home = path.join(tmp, "home");
    mkdirSync(home, { mode: 0o755 });
    const dir = privateCacheDir({ HOME: home });
    expect(dir).toBe(path.join(home, ".cache", "apigw-diag"));
    expect(mode(path.join(home, ".cache"))).toBe(0o700);
    expect(mode(path.join(home, ".cache", "apigw-diag"))).toBe(0o700);
  });

  it("is under XDG_CACHE_HOME when that is an absolute path, not when it is relative", () => {
    const xdg = path.join(tmp, "xdg");
    expect(privateCacheDir({ HOME: tmp, XDG_CACHE_HOME: xdg })).toBe(path.join(xdg, "apigw-diag"));
    expect(privateCacheDir({ HOME: tmp, XDG_CACHE_HOME: "rel" })).toBe(
      path.join(tmp, ".cache", "apigw-diag"),
    );
  });

  it("is refused, and nothing created, below a directory others can write to (not sticky)", () => {
    const shared = path.join(tmp, "shared");
    mkdirSync(path.join(shared, "home"), { recursive: true });
    chmodSync(shared, 0o777);
    expect(privateCacheDir({ HOME: path.join(shared, "home") })).toBeUndefined();
    expect(readdirSync(path.join(shared, "home"))).toEqual([]);
  });

  it("may be below a sticky directory such as /tmp, where others cannot swap what is ours", () => {
    const sticky = path.join(tmp, "sticky");
    mkdirSync(path.join(sticky, "home"), { recursive: true });
    chmodSync(sticky, 0o1777);
    expect(privateCacheDir({ HOME: path.join(sticky, "home") })).toBe(
      path.join(sticky, "home", ".cache", "apigw-diag"),
    );
  });

  it("is refused when it exists writable by others", () => {
    const dir = path.join(tmp, ".cache", "apigw-diag");
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    expect(privateCacheDir({ HOME: tmp })).toBeUndefined();
  });

  it.skipIf(!IS_ROOT)(
    "is refused in another user's home (sudo keeping HOME), nothing created",
    () => {
      // Needs root to give a directory to another user: skipped otherwise.
      const home = path.join(tmp, "alice");
      mkdirSync(home);
      chownSync(home, 4242, 4242);
      expect(privateCacheDir({ HOME: home })).toBeUndefined();
      expect(readdirSync(home)).toEqual([]);
    },
  );

  it("is none, without an error, when the home is not a directory or cannot be written to", () => {
    const file = path.join(tmp, "file");
    writeFileSync(file, "");
    expect(privateCacheDir({ HOME: file })).toBeUndefined();
    // /proc: not writable even by root.
    if (existsSync("/proc")) expect(privateCacheDir({ HOME: "/proc" })).toBeUndefined();
  });

  it("is not turned on when NODE_COMPILE_CACHE (node's own) or NODE_DISABLE_COMPILE_CACHE is set", () => {
    expect(enableCompileCache({ HOME: tmp, NODE_COMPILE_CACHE: path.join(tmp, "x") })).toBe(
      undefined,
    );
    expect(enableCompileCache({ HOME: tmp, NODE_DISABLE_COMPILE_CACHE: "1" })).toBe(undefined);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe("the CLI", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ stages: { prod: "ok" } });
  });
  afterAll(async () => {
    await sim.close();
  });
  // The home given is the one used: not the run's own cache home (test/global-setup.ts).
  const diagnose = (env: NodeJS.ProcessEnv, node?: string) =>
    cli(
      [...diagnoseFlags(sim), "--timeout=2s", "--format=json", "--log-level=silent"],
      { XDG_CACHE_HOME: undefined, ...env },
      node,
    );

  // Skipped only on a Node without the cache and with no APIGW_DIAG_TEST_NODE (never under CI).
  it.skipIf(!CACHE_NODE)(
    "keeps Node's compile cache in ~/.cache/apigw-diag, 0700 (Node >= 22.1)",
    async () => {
      const { code, stderr } = await diagnose({ HOME: tmp }, CACHE_NODE);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      const dir = path.join(tmp, ".cache", "apigw-diag");
      expect(mode(dir)).toBe(0o700);
      // node keeps one directory per version, holding a file per module compiled.
      const [versionDir, ...others] = readdirSync(dir);
      expect(others).toEqual([]);
      expect(readdirSync(path.join(dir, versionDir!)).length).toBeGreaterThan(0);
    },
  );

  it.skipIf(!CACHE_NODE)(
    "started by the tests, keeps its cache in the run's own cache home, not the user's",
    async () => {
      const home = process.env.XDG_CACHE_HOME;
      expect(home).toMatch(/apigw-diag-test-cache-/); // test/global-setup.ts
      const { code } = await cli(["--help"], {}, CACHE_NODE);
      expect(code).toBe(0);
      expect(readdirSync(path.join(home!, "apigw-diag")).length).toBeGreaterThan(0);
    },
  );

  it("runs as well with a home that cannot hold a cache", async () => {
    const file = path.join(tmp, "file");
    writeFileSync(file, "");
    // On the Node running the tests, and on one with the cache (where a cache would be made).
    const nodes = [...new Set([process.execPath, CACHE_NODE ?? process.execPath])];
    for (const node of nodes)
      for (const HOME of [file, "/proc"].filter((h) => existsSync(h))) {
        const { code, stdout, stderr } = await diagnose({ HOME }, node);
        expect({ node, HOME, code, stderr }).toEqual({ node, HOME, code: 0, stderr: "" });
        expect(JSON.parse(stdout)).toMatchObject({ verdict: "healthy" });
      }
  });
});
