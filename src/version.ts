// node:fs through process.getBuiltinModule, not an `import`: for an ES module's import of a
// built-in, Node builds a facade of all its exports and reads every lazy getter on the way, and
// node:fs's load its promises API, file streams, watchers and readline (30 modules, compiled from
// source under the bin's V8 flag, cli.ts), on every `--version`.
const { readFileSync } = process.getBuiltinModule("node:fs");

let cached: string | undefined;

/** The package version, read once from package.json beside src/ or dist/. */
export function version(): string {
  if (!cached) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
        version?: string;
      };
      cached = pkg.version ?? "0.0.0";
    } catch {
      cached = "0.0.0";
    }
  }
  return cached;
}
