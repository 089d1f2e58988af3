// How a command line ends: a usage error is one line on stderr and exit 3, a bug keeps its stack.
// Used by src/cli.ts for every command.
import { UsageError, EXIT } from "./types.js";

export const fail = (message: string): never => {
  // One line, all of it: yargs puts the useful part of "Invalid values:" on the next lines.
  const line = message
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .join(" ");
  process.stderr.write(`apigw-diag: ${line}\n`);
  process.exit(EXIT.error);
};

export function runCommandLine(main: () => Promise<void>): void {
  // A reader that goes away (`| head`) is not an error: stop quietly, keeping the verdict's code.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
  main().catch((err: unknown) => {
    if (err instanceof UsageError) fail(err.message);
    // This host refused something (a listen, a file, a socket): its reason, not our stack.
    if (isSystemError(err)) fail(`cannot run here: ${err.message}`);
    // A bug, not a user error: keep the stack.
    process.stderr.write(
      `apigw-diag: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(EXIT.error);
  });
}

/** An error the OS returned (it carries errno and the syscall), as opposed to a bug of ours. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException;
  return err instanceof Error && typeof e.errno === "number" && typeof e.syscall === "string";
}
