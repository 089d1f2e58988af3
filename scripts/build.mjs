// The build: one esbuild bundle, dist/, and nothing else in it. Two entries share its chunks:
// dist/cli.js, the bin (every command, each loaded lazily as a chunk of its own), and
// dist/simulator/main.js, the standalone simulator the namespace lab and the container test run.
// Types are checked by `tsc --noEmit` (npm run typecheck), not here.
import { chmod, rm } from "node:fs/promises";
import { URL } from "node:url";
import { build } from "esbuild";

const dist = new URL("../dist/", import.meta.url);
await rm(dist, { recursive: true, force: true });

await build({
  entryPoints: [
    { in: "src/cli.ts", out: "cli" },
    { in: "src/simulator/main.ts", out: "simulator/main" },
  ],
  outdir: "dist",
  bundle: true,
  splitting: true,
  // Chunks sit beside cli.js, so that src/version.ts finds ../package.json from any of them.
  chunkNames: "chunk-[hash]",
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
  // The CommonJS dependencies (undici, pino, prom-client) call require() for Node's built-ins;
  // an ES module has none. esbuild's documented remedy: one made from the chunk's own URL.
  banner: {
    js: 'const require = process.getBuiltinModule("node:module").createRequire(import.meta.url);',
  },
});

// The bin runs through its own `#!/usr/bin/env node` line, as npm's link does.
await chmod(new URL("cli.js", dist), 0o755);
