// The one pino instance. Secrets are redacted here as a second line of defence: the plan
// already replaces secret header values before anything is logged.
import pino, { type Logger } from "pino";

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
  return pino(
    {
      name: "apigw-diag",
      level: opts.level ?? process.env.APIGW_DIAG_LOG_LEVEL ?? "info",
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: opts.destination ?? 2, sync: true }),
  );
}
