// Bundles the CLI into dist/cli.cjs, its bin, and dist/cli-main.js (plus one chunk per lazily
// imported command) after tsc has type-checked and emitted dist/. One file per command instead of
// hundreds of ESM and CommonJS modules to resolve and wrap is most of what `apigw-diag` costs to
// start. The rest of dist/ (dist/simulator/main.js for the namespace lab and the container) stays
// as tsc emitted it.
import { chmod, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { builtinModules, createRequire } from "node:module";
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

// undici's HTTP parser, llhttp, is WebAssembly held in two modules as base64 text (the SIMD build
// and a fallback), 72 KB each, and the one it compiles caches its decoded bytes for good: in the
// daemon all three stayed in the heap for the process's life with the chunk's source. The bundle
// holds neither: the bytes are written beside it as .wasm files, which undici's client-h1.js
// (edited in DEFERRED) reads when it compiles the parser, once per process.
const LLHTTP = {
  "llhttp_simd.wasm": "undici/lib/llhttp/llhttp_simd-wasm.js",
  "llhttp.wasm": "undici/lib/llhttp/llhttp-wasm.js",
};
const llhttpFiles = {
  name: "llhttp-files",
  setup(b) {
    b.onResolve({ filter: /^apigw-diag:llhttp-wasm$/ }, () => ({
      path: "llhttp-wasm",
      namespace: "llhttp-files",
    }));
    b.onLoad({ filter: /.*/, namespace: "llhttp-files" }, () => ({
      contents:
        'import { readFileSync } from "node:fs";\n' +
        "export const read = (name) => readFileSync(new URL(name, import.meta.url));\n",
      loader: "js",
    }));
  },
};

// Top-level requires in dependencies, for what a run never or seldom calls: each such built-in is
// loaded, and compiled from source under the bin's V8 flag, at every start (node:http and its
// parts, worker_threads and its messaging: 6-9 ms of a healthy one-shot on Node 22 and 20,
// docs/performance.md), and a package's source stays in the daemon's heap for its life. Each
// edit moves one require to the first call that needs it; the text replaced must be found exactly
// once, or the build fails: a new release of the dependency is then read again, not silently
// loaded whole. Lines are kept, so stack traces still point into the dependency's own source.
const DEFERRED = [
  {
    file: "undici/lib/core/util.js",
    edits: [
      // Only a stream whose constructor is named so can be one: node:http is loaded for no other.
      [
        "const { IncomingMessage } = require('node:http')",
        "const isIncomingMessage = (c) => c?.name === 'IncomingMessage' && c === require('node:http').IncomingMessage",
      ],
      [
        "Object.getPrototypeOf(stream).constructor === IncomingMessage",
        "isIncomingMessage(Object.getPrototypeOf(stream).constructor)",
      ],
    ],
  },
  {
    // llhttp's bytes from the files beside the bundle, not from its base64 modules: see LLHTTP.
    file: "undici/lib/dispatcher/client-h1.js",
    edits: [
      [
        "function lazyllhttp () {",
        "const llhttpWasm = (name) => require('apigw-diag:llhttp-wasm').read(name); function lazyllhttp () {",
      ],
      [
        "process.env.JEST_WORKER_ID ? require('../llhttp/llhttp-wasm.js') : undefined",
        "process.env.JEST_WORKER_ID ? llhttpWasm('llhttp.wasm') : undefined",
      ],
      [
        "new WebAssembly.Module(require('../llhttp/llhttp_simd-wasm.js'))",
        "new WebAssembly.Module(llhttpWasm('llhttp_simd.wasm'))",
      ],
      [
        "new WebAssembly.Module(llhttpWasmData || require('../llhttp/llhttp-wasm.js'))",
        "new WebAssembly.Module(llhttpWasmData || llhttpWasm('llhttp.wasm'))",
      ],
    ],
  },
  {
    // Asked only when a Client is made without maxHeaderSize (src/probes/http.ts gives it).
    file: "undici/lib/dispatcher/client.js",
    edits: [
      ["const http = require('node:http')", "// node:http: see getDefaultNodeMaxHeaderSize"],
      [
        "const getDefaultNodeMaxHeaderSize = http &&",
        "const getDefaultNodeMaxHeaderSize = () => (http => http &&",
      ],
      [
        ": () => { throw new InvalidArgumentError('http module not available or http.maxHeaderSize invalid') }",
        ": () => { throw new InvalidArgumentError('http module not available or http.maxHeaderSize invalid') })(require('node:http'))()",
      ],
    ],
  },
  {
    // Asked only for an asynchronous destination; apigw-diag's is synchronous (src/log.ts).
    file: "pino/lib/tools.js",
    edits: [
      [
        "const { isMainThread } = require('worker_threads')",
        "const isMainThread = () => require('worker_threads').isMainThread",
      ],
      ["if (!opts.sync && isMainThread) {", "if (!opts.sync && isMainThread()) {"],
    ],
  },
  {
    // prom-client reads the active OpenTelemetry span only for exemplars, which apigw-diag never
    // enables. @opentelemetry/api is left out of the bundle (see OUTSIDE): 43 KB of its source and
    // its global singletons stayed in the daemon's heap for the process's life.
    file: "prom-client/lib/metrics/processCpuTotal.js",
    edits: [
      [
        "const OtelApi = require('@opentelemetry/api');",
        "const OtelApi = { get trace () { return require('@opentelemetry/api').trace }, get context () { return require('@opentelemetry/api').context } };",
      ],
    ],
  },
  {
    // pino's transports run in a worker thread; apigw-diag configures none. node:module, which
    // brings part of Node's ES module loader, is for a transport's target name alone.
    file: "pino/lib/transport.js",
    edits: [
      [
        "const ThreadStream = require('thread-stream')",
        "let ThreadStreamClass; function ThreadStream (opts) { return new (ThreadStreamClass ??= require('thread-stream'))(opts) }",
      ],
      [
        "const { createRequire } = require('module')",
        "const createRequire = (...a) => require('module').createRequire(...a)",
      ],
    ],
  },
  {
    // node:module, which brings part of Node's ES module loader, for a `config` option's file,
    // which apigw-diag does not declare.
    file: "yargs-parser/build/lib/index.js",
    edits: [
      [
        "import { createRequire } from 'node:module';",
        "const createRequire = (url) => (path) => process.getBuiltinModule('node:module').createRequire(url)(path);",
      ],
    ],
  },
];
// Dependencies left out of the bundle: required, from node_modules as any dependency of an
// installed package, only on a path apigw-diag never takes (their one require is deferred above).
const OUTSIDE = ["@opentelemetry/api"];
const deferredApplied = new Set();
const deferredPackages = [...new Set(DEFERRED.map((p) => p.file.split("/")[0]))];
const deferBuiltins = {
  name: "defer-builtins",
  setup(b) {
    b.onLoad(
      { filter: new RegExp(`[\\\\/]node_modules[\\\\/](${deferredPackages.join("|")})[\\\\/]`) },
      async (args) => {
        const patch = DEFERRED.find((p) => args.path.endsWith(path.join("node_modules", p.file)));
        if (!patch) return;
        let contents = await readFile(args.path, "utf8");
        for (const [from, to] of patch.edits) {
          const at = contents.indexOf(from);
          if (at < 0 || contents.indexOf(from, at + 1) >= 0)
            throw new Error(`bundle: ${patch.file}: "${from}" is not there exactly once`);
          contents = contents.slice(0, at) + to + contents.slice(at + from.length);
        }
        deferredApplied.add(patch.file);
        return { contents, loader: "js" };
      },
    );
  },
};

// For an ES module's import of a built-in, Node builds a facade of all its exports and reads every
// lazy getter on the way: `import { readFileSync } from "node:fs"` loads fs/promises, readline, the
// file streams and watchers, `node:dns` its promises API, `node:crypto` WebCrypto, `node:util` its
// argument parser. So every such import in the bundle (ours, and those of ES module dependencies)
// becomes a `const` taken from process.getBuiltinModule(), which returns the module itself as
// require() does, at the top of its chunk (hoisted, as an import is), and the import statement is
// blanked with as many spaces, so that every column, and the sourcemaps, stay as esbuild made them.
const BANNER =
  'const require = process.getBuiltinModule("node:module").createRequire(import.meta.url);';
const IMPORT =
  /import\s*(?:([\w$]+)\s*,?\s*)?(?:\{([^}]*)\}\s*|\*\s*as\s+([\w$]+)\s*)?from\s*"([^"]+)";/g;
const builtin = (spec) => builtinModules.includes(spec.replace(/^node:/, ""));

/** `code` without import statements of built-ins, and how many there were. */
function withoutFacades(code) {
  const consts = [];
  let replaced = 0;
  const rewritten = code.replace(IMPORT, (statement, def, named, star, spec) => {
    if (!builtin(spec)) return statement;
    const mod = `process.getBuiltinModule(${JSON.stringify(spec.replace(/^(node:)?/, "node:"))})`;
    const whole = [def, star].filter(Boolean);
    const props = [];
    const specifiers = (named ?? "").split(",").map((n) => n.trim());
    for (const specifier of specifiers.filter(Boolean)) {
      const [name, as = name] = specifier.split(/\s+as\s+/);
      if (name === "default") whole.push(as);
      else props.push(name === as ? name : `${name}:${as}`);
    }
    for (const w of whole) consts.push(`const ${w}=${mod};`);
    if (props.length) consts.push(`const{${props.join(",")}}=${mod};`);
    replaced++;
    return " ".repeat(statement.length);
  });
  if (!rewritten.includes(BANNER)) throw new Error("bundle: a chunk without the banner");
  return { code: rewritten.replace(BANNER, BANNER + consts.join("")), replaced };
}

const dist = new URL("../dist/", import.meta.url);
for (const f of await readdir(dist))
  if (/^chunk-.*\.js(\.map)?$/.test(f)) await rm(new URL(f, dist));

const result = await build({
  // The daemon reads its config file in a child process (src/config/isolated.ts) running this file;
  // cli.cjs imports cli-main.js by that name.
  entryPoints: [
    { in: "src/cli-main.ts", out: "cli-main" },
    { in: "src/config/config-worker.ts", out: "config-worker" },
  ],
  outdir: "dist",
  bundle: true,
  splitting: true,
  // Chunks sit beside cli.cjs so that src/version.ts finds ../package.json from any of them.
  chunkNames: "chunk-[hash]",
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
  plugins: [lazyUndiciH2, llhttpFiles, deferBuiltins],
  external: OUTSIDE,
  metafile: true,
  write: false,
  // CommonJS dependencies call require() for Node's built-ins; an ES module has none.
  banner: { js: BANNER },
});

for (const file of result.outputFiles) {
  if (!file.path.endsWith(".js")) {
    await writeFile(file.path, file.contents);
    continue;
  }
  const { code, replaced } = withoutFacades(file.text);
  // Every import of a built-in esbuild reports for this file, and nothing else, was replaced.
  const rel = path.relative(process.cwd(), file.path);
  const expected = result.metafile.outputs[rel].imports.filter(
    (i) => i.kind === "import-statement" && i.external && builtin(i.path),
  ).length;
  if (replaced !== expected)
    throw new Error(`bundle: ${rel}: ${expected} imports of built-ins, ${replaced} replaced`);
  await writeFile(file.path, code);
}

for (const { file } of DEFERRED)
  if (!deferredApplied.has(file)) throw new Error(`bundle: ${file} was not bundled: see DEFERRED`);
if (!lazyH2Applied)
  throw new Error("bundle: undici's client.js no longer requires ./client-h2.js: see lazyUndiciH2");

const requireHere = createRequire(import.meta.url);
for (const [name, module] of Object.entries(LLHTTP)) {
  const bytes = requireHere(module);
  if (!(bytes instanceof Uint8Array) || bytes.length === 0)
    throw new Error(`bundle: ${module} no longer exports the WebAssembly bytes: see LLHTTP`);
  await writeFile(new URL(name, dist), bytes);
}
for (const file of result.outputFiles)
  if (/llhttp(_simd)?-wasm\.js/.test(file.text) || file.text.includes("AGFzbQ"))
    throw new Error(`bundle: ${file.path} still holds llhttp's base64 modules: see LLHTTP`);

// Both CommonJS bundles below. import.meta.url, which CommonJS lacks, is the file's own URL, as it
// is in the chunks (src/version.ts reads ../package.json from it).
const COMMONJS = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
  define: { "import.meta.url": "importMetaUrl" },
  banner: {
    js: '"use strict";const importMetaUrl=require("node:url").pathToFileURL(__filename).href;',
  },
};

// The bin: src/cli.ts alone. A CommonJS main does not load Node's ES module loader (4 ms of a
// start on Node 20, 2 on Node 22, most of `--version`); the loader comes with the import() of
// cli-main.js, for the commands that need it.
await build({
  ...COMMONJS,
  entryPoints: ["src/cli.ts"],
  outfile: "dist/cli.cjs",
  external: ["./cli-main.js", "./daemon.cjs"],
});
const bin = await readFile(new URL("cli.cjs", dist), "utf8");
if (!/import\("\.\/cli-main\.js"\)/.test(bin) || !/require\("\.\/daemon\.cjs"\)/.test(bin))
  throw new Error(
    "bundle: dist/cli.cjs no longer imports ./cli-main.js and ./daemon.cjs at run time",
  );

// The daemon: src/daemon-cli.ts and everything it runs, one CommonJS file. An ES module anywhere
// in a process loads Node's ES module loader for good: 1.4 MiB more of node's own code resident
// and 0.2 MiB of heap, for the daemon's whole life (docs/performance.md). Only help and errors go
// on to cli-main.js, through the one import() that must remain.
await build({
  ...COMMONJS,
  entryPoints: ["src/daemon-cli.ts"],
  outfile: "dist/daemon.cjs",
  plugins: [lazyUndiciH2, llhttpFiles, deferBuiltins],
  external: [...OUTSIDE, "./cli-main.js"],
});
const daemon = await readFile(new URL("daemon.cjs", dist), "utf8");
const imports = daemon.match(/\bimport\(\s*"[^"]*"\s*\)/g) ?? [];
if (imports.length !== 1 || !imports[0].includes("./cli-main.js"))
  throw new Error(
    `bundle: dist/daemon.cjs imports ${imports.join(", ") || "nothing"}, not ./cli-main.js alone`,
  );
// dist/cli.js was the bin until the fifth round, and links to it outlive that: npx keeps the bin
// link it made for a directory in its cache (~/.npm/_npx) and does not make it again, so a clone
// where `npx apigw-diag` ran before would answer "apigw-diag: not found". In place of tsc's
// unbundled cli.js, which would be a second, slower way in: the bin itself, imported, under the
// same `#!` line (an ES module, so it costs the loader that the bin spares; only old links use it).
await writeFile(
  new URL("cli.js", dist),
  `${bin.split("\n")[0]}\n// The bin's former path: see scripts/bundle.mjs.\nimport "./cli.cjs";\n`,
);
await rm(new URL("cli.js.map", dist), { force: true });

// Runnable as they are, through their own `#!` line and the node flags there, the way npm's bin
// link runs them; the benchmark starts cli.cjs so.
await chmod(new URL("cli.cjs", dist), 0o755);
await chmod(new URL("cli.js", dist), 0o755);
