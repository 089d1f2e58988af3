import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// Read from the bundle (dist/, npm run build): which chunk holds what, and which chunks a chunk
// imports statically (loaded with it) or dynamically (loaded when that code runs).
const DIST = new URL("../../dist/", import.meta.url);
const chunks = new Map(
  readdirSync(DIST)
    .filter((f) => /^(cli|chunk-.*)\.js$/.test(f))
    .map((f) => [f, readFileSync(new URL(f, DIST), "utf8")]),
);
const holding = (marker: string) =>
  [...chunks].filter(([, t]) => t.includes(marker)).map(([f]) => f);
const staticImports = (text: string) =>
  [...text.matchAll(/(?:from|import)\s*"\.\/(chunk-[^"]+\.js)"/g)].map((m) => m[1]!);
/** `file` and every chunk it loads statically, transitively. */
function loadedWith(file: string): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const g of staticImports(chunks.get(f) ?? "")) visit(g);
  };
  visit(file);
  return seen;
}

describe("lazy loading", () => {
  it("loads the config file's parser (yaml, zod) only when a config file is given", () => {
    const [diagnose] = holding("function runDiagnose(");
    const parsers = [...holding("YAMLParseError"), ...holding("ZodError")];
    expect(parsers.length).toBeGreaterThan(0);
    const eager = new Set([...loadedWith("cli.js"), ...loadedWith(diagnose!)]);
    for (const chunk of parsers) expect(eager).not.toContain(chunk);
  });

  it("does not load prom-client with the diagnose command, only with the daemon", () => {
    // prom-client's default metric names, and each command's own function.
    const [prom] = holding("process_cpu_user_seconds_total");
    const [diagnose] = holding("function runDiagnose(");
    const [daemon] = holding("function runDaemon(");
    expect(prom).toBeDefined();
    expect(diagnose).toBeDefined();
    expect(daemon).toBeDefined();
    expect(loadedWith(diagnose!)).not.toContain(prom);
    expect(loadedWith("cli.js")).not.toContain(prom);
    // The daemon does load it, statically or through one import() when it starts.
    const withDaemon = loadedWith(daemon!);
    const reached =
      withDaemon.has(prom!) ||
      [...withDaemon].some((f) => chunks.get(f)!.includes(`import("./${prom}")`));
    expect(reached).toBe(true);
  });
});

describe("the status page", () => {
  it("is a chunk of its own in the bundle, imported only dynamically (when / is asked for)", () => {
    const text = chunks;
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
