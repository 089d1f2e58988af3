// Reads one config file and posts back what it holds, or its one-line error. The daemon reads its
// config through it (config/isolated.ts): yaml and zod, their source and what V8 compiles of them,
// then end with this thread's heap instead of staying in the daemon's for its whole life.
import { parentPort, workerData } from "node:worker_threads";
import { UsageError } from "../types.js";
import { readConfigFile } from "./file.js";
import type { WorkerAnswer } from "./isolated.js";

const { file } = workerData as { file: string };
let answer: WorkerAnswer;
try {
  answer = { config: readConfigFile(file) };
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  answer = { error: message, usage: err instanceof UsageError };
}
parentPort?.postMessage(answer);
