// The daemon command: its settings from the one config loader (config/from-args.ts), read anew at
// start and at every SIGHUP, its logs on stdout, its run until SIGTERM.
import type { ParsedArgs } from "../config/from-args.js";
import { settingsLoader } from "../config/from-args.js";
import type { Settings } from "../config/load.js";
import { runDaemon } from "../daemon/index.js";
import { createLogger } from "../log.js";

export type DaemonArgs = ParsedArgs & { logLevel?: string };

/**
 * What the daemon reads its settings with, at start and on SIGHUP: flags, then the environment,
 * then the config file, read anew each call. Throws a UsageError for a config that does not load.
 */
export async function daemonSettingsLoader(
  args: ParsedArgs,
  env: NodeJS.ProcessEnv,
): Promise<() => Promise<Settings>> {
  const load = await settingsLoader(args, env);
  // No report on stdout: the format is not the daemon's concern.
  return async () => load(false).settings;
}

export async function daemonCommand(args: DaemonArgs): Promise<void> {
  const load = await daemonSettingsLoader(args, process.env);
  const settings = await load();
  // Daemon mode: no report on stdout, so the JSON logs go there (what container runtimes ship).
  const log = createLogger({ level: args.logLevel, destination: 1 });
  process.exitCode = await runDaemon({ settings, log, reload: load });
  // Everything was closed; if a handle still lingers, do not hang the container's stop.
  setTimeout(() => {
    log.warn({ event: "exit_forced" }, "handles still open after shutdown; exiting");
    process.exit(process.exitCode);
  }, 2_000).unref();
}
