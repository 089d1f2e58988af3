// The daemon's way in, bundled as CommonJS (dist/daemon.cjs, scripts/bundle.mjs) with everything
// it runs: a daemon that never loads Node's ES module loader holds 1.4 MiB less of node's own
// code and 0.2 MiB less heap for its whole life (docs/performance.md). cli.cjs requires it for
// `daemon`. A command line it does not parse as plainly valid (help, an error) goes to
// cli-main.js, whose yargs answers as for every command.
import { commonOptions, daemonOptions } from "./cli-options.js";
import { declaredOptions, parseWithoutYargs } from "./cli-parse.js";
import { runCommandLine } from "./cli-run.js";
import { daemonCommand, type DaemonArgs } from "./commands/daemon.js";

/** `argv` is the whole command line after node and the script: "daemon" and its options. */
export function run(argv: string[]): void {
  runCommandLine(async () => {
    const options = declaredOptions((y) => daemonOptions(commonOptions(y)));
    const args = await parseWithoutYargs(argv.slice(1), options, "apigw-diag daemon");
    if (args) return daemonCommand(args as unknown as DaemonArgs);
    const cli = await import("./cli-main.js");
    cli.run(argv);
  });
}
