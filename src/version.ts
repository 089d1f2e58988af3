// node:fs from process.getBuiltinModule(): this module is part of the bin's own graph (cli.ts).
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
