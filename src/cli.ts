#!/usr/bin/env node
// The command line: `--version` first, then the yargs commands, each loading what it needs when it
// runs (so `diagnose` does not pay for the daemon's server and metrics, nor the daemon for the
// report's renderers). Bundled by esbuild into dist/cli.js, the bin (scripts/build.mjs).
import { setMaxListeners } from "node:events";
import type { Argv } from "yargs";
import type { ParsedArgs } from "./config/from-args.js";
import {
  commonOptions,
  daemonOptions,
  demoOptions,
  targetOptions,
  watchOptions,
} from "./cli-options.js";
import { declaredOptions, parseWithoutYargs } from "./cli-parse.js";
import { fail, runCommandLine } from "./cli-run.js";
import { enableCompileCache } from "./compile-cache.js";
import { UsageError, EXIT } from "./types.js";
import { version } from "./version.js";

// Built-ins of the bin's own graph come from process.getBuiltinModule(), which returns the module
// as require() does: an ES module's `import` of one reads every lazy getter it has (node:fs then
// loads fs/promises and the streams), which `--version` would pay at every start.
const { writeSync } = process.getBuiltinModule("node:fs");

type Args = ParsedArgs & {
  logLevel?: string;
  scenario?: string;
  watch?: string;
  until?: string;
  _: (string | number)[];
};

async function diagnoseCommand(args: Args): Promise<void> {
  const isTty = Boolean(process.stdout.isTTY);
  const [{ settingsLoader }, { runDiagnose }, { createLogger }] = await Promise.all([
    import("./config/from-args.js"),
    import("./commands/diagnose.js"),
    import("./log.js"),
  ]);
  const { settings, format } = (await settingsLoader(args, process.env))(isTty);
  if (settings.targets.length === 0)
    throw new UsageError(
      "nothing to diagnose: the config has modules (for the daemon's /probe) but no targets",
    );
  const log = createLogger({ level: args.logLevel });
  const opts = { format, color: isTty && format === "text", log, signal: interruptSignal() };
  if (args.watch !== undefined || args.until !== undefined) {
    const { runWatch, watchSpec } = await import("./commands/watch.js");
    const spec = watchSpec(args.watch, args.until);
    if (spec) finish(await runWatch(settings, spec, opts));
  }
  const report = await runDiagnose(settings, opts);
  finish(report.exitCode);
}

/**
 * SIGINT or SIGTERM cancels the run: every probe ends at once, the report of what finished is
 * printed, and the exit code is 3. A second signal does not wait for the report.
 */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  // Every probe of the run listens on it at once (a dualstack endpoint's zonal names alone are a
  // dozen questions): Node's default of 10 would print a leak warning on stderr. As the daemon's.
  setMaxListeners(1_024, controller.signal);
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT.error);
    controller.abort(new Error("interrupted"));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return controller.signal;
}

/**
 * A one-shot ends when its report is written: a getaddrinfo call still running in libuv's thread
 * pool (the OS resolver comparison, which cannot be cancelled) must not keep it alive for glibc's
 * own retries. The report and the logs (pino writes synchronously) are out by now.
 */
function finish(code: number): never {
  process.exit(code);
}

async function daemonCommand(args: Args): Promise<void> {
  const { daemonCommand: run } = await import("./commands/daemon.js");
  await run(args);
}

async function demoCommand(args: Args): Promise<void> {
  const isTty = Boolean(process.stdout.isTTY);
  const [{ runDemo }, { createLogger }] = await Promise.all([
    import("./commands/demo.js"),
    import("./log.js"),
  ]);
  const format = args.format ?? "text"; // a showcase for people, even when piped
  const log = createLogger({ level: args.logLevel ?? "fatal" }); // the report says it all
  const report = await runDemo({
    format,
    color: isTty && format === "text",
    log,
    timeout: args.timeout ?? "2s",
    signal: interruptSignal(),
    scenario: args.scenario,
  });
  // A showcase: its simulated endpoint is degraded on purpose, and that is not a failure.
  finish(report.interrupted ? EXIT.error : 0);
}

interface Command {
  describe: string;
  options: (y: Argv) => Argv;
  run: (args: Args) => Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  diagnose: {
    describe: "diagnose each stage of a private API, layer by layer, once",
    options: (y) => watchOptions(targetOptions(y)),
    run: diagnoseCommand,
  },
  daemon: {
    describe: "diagnose every target on its interval; serve /metrics, /healthz and /report",
    options: daemonOptions,
    run: daemonCommand,
  },
  demo: {
    describe: "diagnose a built-in simulated endpoint on loopback: no AWS needed",
    options: demoOptions,
    run: demoCommand,
  },
};

function common(y: Argv, scriptName: string): Argv {
  return commonOptions(
    y
      .scriptName(scriptName)
      .version(version())
      .strict()
      .wrap(Math.min(110, process.stdout.columns ?? 100)),
  ).fail((msg, err) => {
    if (err && !(err instanceof UsageError)) throw err;
    fail(msg ?? err?.message ?? "invalid arguments");
  });
}

async function main(argv: string[]): Promise<void> {
  const [name = "", ...rest] = argv;
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  const scriptName = `apigw-diag ${name}`;
  if (command) {
    // A plainly valid command line does without yargs; help and any error go to yargs below.
    const options = declaredOptions((y) => command.options(commonOptions(y)));
    const args = await parseWithoutYargs(rest, options, scriptName);
    if (args) return command.run(args as unknown as Args);
  }
  const { default: yargs } = await import("yargs");
  if (command) {
    // The command's own parser, without yargs' command machinery: a yargs command renders the
    // whole help text on every run (kept for a later failure), 50-100 ms of a one-shot diagnosis.
    const args = (await command
      .options(common(yargs(rest), scriptName).usage(`$0 [options]\n\n${command.describe}`))
      .parseAsync()) as Args;
    await command.run(args);
    return;
  }
  // No known command: help, version, or a one-line error.
  let top = common(yargs(argv), "apigw-diag").usage("$0 <command> [options]");
  for (const [n, c] of Object.entries(COMMANDS)) top = top.command(n, c.describe);
  await top.demandCommand(1, "give a command: diagnose, daemon or demo").parseAsync();
}

/**
 * Straight to file descriptor 1: monitoring and packaging ask often, and process.stdout on a pipe
 * loads net and the streams.
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

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === "--version") printVersion();
else {
  // undici parses HTTP with a WebAssembly build of llhttp. Optimizing it runs on a V8 worker
  // thread that a one-shot waits for before exiting (170-220 ms after its report), and in the
  // daemon takes up to 19 MiB of malloc, about 7 MiB of which stays resident; the baseline tier
  // parses our few small answers as fast. Set before any WebAssembly is compiled
  // (docs/performance.md).
  // node:v8 only here: it loads the streams, which `--version` does without.
  process.getBuiltinModule("node:v8").setFlagsFromString("--liftoff-only");
  // V8's code for the commands' modules, kept for the next run (Node 22.1 and later). Not for the
  // daemon, which starts once and would keep node:module's loader for its whole life.
  if (argv[0] !== "daemon") enableCompileCache();
  runCommandLine(() => main(argv));
}
