// Bundles the CLI into dist/cli.js (plus one chunk per lazily imported command) after tsc has
// type-checked and emitted dist/. One file per command instead of hundreds of ESM and CommonJS
// modules to resolve and wrap is most of what `apigw-diag` costs to start. The rest of dist/
// (dist/simulator/main.js for the namespace lab and the container) stays as tsc emitted it.
import { chmod, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";
import { URL } from "node:url";

// undici's Client requires its HTTP/2 half at load, and that requires node:http2, whose core
// requires fs/promises, readline and cluster: about 6 ms of a one-shot's start on Node 22 (their
// code compiled from source: `--liftoff-only` makes V8 refuse Node's cached code for its own
// modules). apigw-diag speaks HTTP/1.1 on the socket it verified, so undici never calls it; the
// module stays in the bundle and is evaluated on its first call, should one come.
let lazyH2Applied = false;
const lazyUndiciH2 = {
  name: "lazy-undici-h2",
  setup(b) {
    b.onResolve({ filter: /^\.\/client-h2\.js$/ }, (args) => {
      if (!args.importer.endsWith(path.join("undici", "lib", "dispatcher", "client.js"))) return;
      lazyH2Applied = true;
      return { path: "undici-client-h2", namespace: "lazy", pluginData: args.resolveDir };
    });
    b.onLoad({ filter: /.*/, namespace: "lazy" }, (args) => ({
      contents: 'let h2; module.exports = (...a) => (h2 ??= require("./client-h2.js"))(...a);',
      resolveDir: args.pluginData,
      loader: "js",
    }));
  },
};

const dist = new URL("../dist/", import.meta.url);
for (const f of await readdir(dist))
  if (/^chunk-.*\.js(\.map)?$/.test(f)) await rm(new URL(f, dist));

await build({
  entryPoints: ["src/cli.ts"],
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
  plugins: [lazyUndiciH2],
  // CommonJS dependencies call require() for Node's built-ins; an ES module has none. Not
  // `import { createRequire } from "node:module"`: see src/version.ts on such imports.
  banner: {
    js: 'const require = process.getBuiltinModule("node:module").createRequire(import.meta.url);',
  },
});

if (!lazyH2Applied)
  throw new Error("bundle: undici's client.js no longer requires ./client-h2.js: see lazyUndiciH2");

// Runnable as it is, through its own `#!` line and the node flags there, the way npm's bin link
// runs it; the benchmark starts it so.
await chmod(new URL("cli.js", dist), 0o755);
