// The one pino instance. Secrets are redacted here as a second line of defence: the plan
// already replaces secret header values before anything is logged.
import pino, { type Logger } from "pino";
import { UsageError } from "./types.js";

export const REDACT_PATHS = [
  "headers.authorization",
  'headers["x-api-key"]',
  "*.headers.authorization",
  '*.headers["x-api-key"]',
  "evidence.headers.authorization",
  'evidence.headers["x-api-key"]',
  "*.evidence.headers.authorization",
  '*.evidence.headers["x-api-key"]',
];

export function createLogger(opts: { level?: string; destination?: number } = {}): Logger {
  const level = opts.level ?? process.env.APIGW_DIAG_LOG_LEVEL ?? "info";
  // pino throws a plain Error on an unknown level: that is the user's typo, not a bug.
  if (!Object.hasOwn(pino.levels.values, level) && level !== "silent")
    throw new UsageError(
      `log level: ${JSON.stringify(level)} is not one of ${Object.keys(pino.levels.values).join(", ")}, silent`,
    );
  return pino(
    {
      name: "apigw-diag",
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: opts.destination ?? 2, sync: true }),
  );
}
