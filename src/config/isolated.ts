// The daemon's config loader: the file is read and checked in a worker thread (config-worker.ts),
// anew at start and at every SIGHUP. Measured at 100 targets, keeping yaml and zod in the daemon
// after the one read held 3-5 MiB of its RSS for good (docs/performance.md).
import { Worker } from "node:worker_threads";
import { UsageError } from "../types.js";
import { envOverrides } from "./env.js";
import { flagOverrides, type ParsedArgs } from "./from-args.js";
import { resolveSettings, type Settings } from "./load.js";
import type { FileConfig } from "./schema.js";

export type WorkerAnswer = { config: FileConfig } | { error: string; usage: boolean };

/**
 * Returns a loader that reads flags, environment and config file anew each call; `worker` is the
 * built config-worker.js. Throws a UsageError for a config that does not load.
 */
export function isolatedSettingsLoader(
  args: ParsedArgs,
  env: NodeJS.ProcessEnv,
  worker: URL,
): () => Promise<Settings> {
  const fromEnv = envOverrides(env);
  const configPath = args.config ?? fromEnv.config;
  return async () => {
    const file = configPath ? await readInWorker(worker, configPath) : {};
    return resolveSettings(flagOverrides(args), fromEnv, file);
  };
}

async function readInWorker(worker: URL, file: string): Promise<FileConfig> {
  const thread = new Worker(worker, { workerData: { file }, stdout: false, stderr: false });
  const answer = await new Promise<WorkerAnswer>((resolve, reject) => {
    thread.once("message", resolve);
    thread.once("error", reject);
    thread.once("exit", (code) =>
      reject(new Error(`config reader ended (exit ${code}) before it answered`)),
    );
  }).finally(() => void thread.terminate());
  if ("config" in answer) return answer.config;
  throw answer.usage ? new UsageError(answer.error) : new Error(answer.error);
}
