// The daemon's config loader: the file is read and checked by a child process (config-worker.ts),
// anew at start and at every SIGHUP. Measured at 100 targets, keeping yaml and zod in the daemon
// after the one read held 3-5 MiB of its RSS for good; a worker thread, which this was before,
// left 2.3 MiB in a malloc arena of its own for the daemon's life (docs/performance.md).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { UsageError } from "../types.js";
import { envOverrides } from "./env.js";
import { flagOverrides, type ParsedArgs } from "./from-args.js";
import { resolveSettings, type Settings } from "./load.js";
import type { FileConfig } from "./schema.js";

export type WorkerAnswer = { config: FileConfig } | { error: string; usage: boolean };

/** How long the reader may take: a file on a stalled mount or a FIFO must not stall a reload. */
export const READ_TIMEOUT_MS = 10_000;
/** A config's answer larger than this is refused, not buffered. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * Returns a loader that reads flags, environment and config file anew each call; `worker` is the
 * built config-worker.js. Throws a UsageError for a config that does not load.
 */
export function isolatedSettingsLoader(
  args: ParsedArgs,
  env: NodeJS.ProcessEnv,
  worker: URL,
  timeoutMs = READ_TIMEOUT_MS,
): () => Promise<Settings> {
  const fromEnv = envOverrides(env);
  const configPath = args.config ?? fromEnv.config;
  return async () => {
    const file = configPath ? await readInChild(worker, configPath, timeoutMs) : {};
    return resolveSettings(flagOverrides(args), fromEnv, file);
  };
}

async function readInChild(worker: URL, file: string, timeoutMs: number): Promise<FileConfig> {
  // Plain node: the daemon's V8 flags are for its own heap, not for a reader that lives 0.1 s,
  // and no NODE_OPTIONS preload writes into the answer (as for the one-shot's OS lookup).
  const child = spawn(process.execPath, [fileURLToPath(worker), file], {
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  let ended: "timeout" | "too large" | undefined;
  const stop = (why: typeof ended) => {
    ended ??= why;
    child.kill("SIGKILL");
  };
  const timer = setTimeout(() => stop("timeout"), timeoutMs);
  const chunks: Buffer[] = [];
  let bytes = 0;
  child.stdout.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > MAX_ANSWER_BYTES) stop("too large");
    else chunks.push(chunk);
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
    (resolve, reject) => {
      child.once("error", reject);
      child.once("close", (c: number | null, s: NodeJS.Signals | null) => resolve([c, s]));
    },
  ).finally(() => clearTimeout(timer));
  if (ended === "timeout") throw new UsageError(`config ${file}: not read within ${timeoutMs} ms`);
  if (ended === "too large") throw new UsageError(`config ${file}: too large to load`);
  let answer: WorkerAnswer;
  try {
    answer = JSON.parse(Buffer.concat(chunks).toString("utf8")) as WorkerAnswer;
  } catch {
    // Killed from outside (the OOM killer, say): one line, as for a file that does not load.
    throw new UsageError(
      `config ${file}: its reader ended (${signal ?? `exit ${code}`}) before it answered`,
    );
  }
  if ("config" in answer) return answer.config;
  throw answer.usage ? new UsageError(answer.error) : new Error(answer.error);
}
