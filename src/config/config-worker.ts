// Reads one config file and writes what it holds, or its one-line error, as JSON on stdout: run
// by the daemon as a child process (config/isolated.ts), so that yaml and zod, their source and
// what V8 compiles of them, and the memory malloc took for them end with this process instead of
// staying in the daemon's for its whole life.
import { UsageError } from "../types.js";
import { readConfigFile } from "./file.js";
import type { WorkerAnswer } from "./isolated.js";

const file = process.argv[2] ?? "";
let answer: WorkerAnswer;
try {
  answer = { config: readConfigFile(file) };
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  answer = { error: message, usage: err instanceof UsageError };
}
process.stdout.write(JSON.stringify(answer));
