#!/usr/bin/env -S node --liftoff-only
// `--liftoff-only`, on node's command line where V8 flags belong (setting one after start is
// unsupported): undici parses HTTP with a WebAssembly build of llhttp, V8 optimizes it on a
// background thread, and a process waits for that job before exiting, 170-220 ms after a
// one-shot's report (docs/performance.md). In the daemon the difference is within noise.
// The container's launcher passes its flags itself (Dockerfile).
// The entry point, kept small: `--version` is answered before anything else is loaded
// (monitoring and packaging ask often), and Node's compile cache is on before the command line
// (cli-main.ts) is compiled: an ES module's static imports are compiled before it runs.
// Bundled as CommonJS (dist/cli.cjs, scripts/bundle.mjs): a CommonJS main leaves Node's ES module
// loader unloaded until the import() below, which `--version` and the daemon never reach.
import { writeSync } from "node:fs";
import { enableCompileCache } from "./compile-cache.js";
import { version } from "./version.js";

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === "--version") printVersion();
// The daemon, CommonJS all the way (daemon-cli.ts), and without the compile cache: node:module
// would bring part of the ES module loader for its whole life, to save 0.1 s once at its start.
// require(), not import(): an import() would load that loader (dist/daemon.cjs is CommonJS).
else if (argv[0] === "daemon") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const daemon = require("./daemon.cjs") as typeof import("./daemon-cli.js");
  daemon.run(argv);
} else {
  enableCompileCache();
  void import("./cli-main.js").then(({ run }) => run(argv));
}

/**
 * Straight to file descriptor 1: process.stdout on a pipe loads net and the streams, and under
 * any V8 flag (ours above) V8 compiles Node's own modules from source, a third of this start.
 */
function printVersion(): void {
  const text = `${version()}\n`;
  try {
    writeSync(1, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A reader that went away (`| head`) is not an error; a full non-blocking pipe, Node waits on.
    if (code === "EAGAIN") process.stdout.write(text);
    else if (code !== "EPIPE") throw err;
  }
}
