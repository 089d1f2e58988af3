// Bundles the CLI into dist/cli.js (plus one chunk per lazily imported command) after tsc has
// type-checked and emitted dist/. One file per command instead of hundreds of ESM and CommonJS
// modules to resolve and wrap is most of what `apigw-diag` costs to start. The rest of dist/
// (dist/simulator/main.js for the namespace lab and the container) stays as tsc emitted it.
import { chmod, readdir, rm } from "node:fs/promises";
import { build } from "esbuild";
import { URL } from "node:url";

const dist = new URL("../dist/", import.meta.url);
for (const f of await readdir(dist))
  if (/^chunk-.*\.js(\.map)?$/.test(f)) await rm(new URL(f, dist));

await build({
  // The daemon reads its config file in a worker thread (src/config/isolated.ts), from this file.
  entryPoints: ["src/cli.ts", { in: "src/config/config-worker.ts", out: "config-worker" }],
  outdir: "dist",
  bundle: true,
  splitting: true,
  // Chunks sit beside cli.js so that src/version.ts finds ../package.json from any of them.
  chunkNames: "chunk-[hash]",
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
  // CommonJS dependencies call require() for Node's built-ins; an ES module has none.
  banner: {
    js: "import { createRequire as __agdCreateRequire } from 'node:module'; const require = __agdCreateRequire(import.meta.url);",
  },
});

// Runnable as it is, through its own `#!` line and the node flags there, the way npm's bin link
// runs it; the benchmark starts it so.
await chmod(new URL("cli.js", dist), 0o755);
