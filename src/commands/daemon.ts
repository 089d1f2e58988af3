// The daemon command: its settings through the config reader, its logs on stdout, its run until
// SIGTERM. Reached from cli-main.ts and from daemon-cli.ts, the daemon's CommonJS way in.
import { isolatedSettingsLoader } from "../config/isolated.js";
import type { ParsedArgs } from "../config/from-args.js";
import { runDaemon } from "../daemon/index.js";
import { createLogger } from "../log.js";

export type DaemonArgs = ParsedArgs & { logLevel?: string };

export async function daemonCommand(args: DaemonArgs): Promise<void> {
  // config-worker.js sits beside every bundle this ends up in, dist/daemon.cjs and the chunks of
  // dist/cli-main.js (scripts/bundle.mjs).
  const load = isolatedSettingsLoader(
    args,
    process.env,
    new URL("./config-worker.js", import.meta.url),
  );
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
