import { UsageError } from "../types.js";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `5s`, `1.5s`, `1m`, or a bare number of milliseconds. */
export function parseDuration(input: string | number, what: string): number {
  if (typeof input === "number") return checkRange(input, what);
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(input);
  if (!match) throw new UsageError(`${what}: "${input}" is not a duration (try 500ms, 5s, 1m)`);
  const value = Number(match[1]) * (UNITS[match[2] ?? "ms"] ?? 1);
  return checkRange(value, what);
}

function checkRange(ms: number, what: string): number {
  if (!Number.isFinite(ms) || ms < 1 || ms > 86_400_000) {
    throw new UsageError(`${what}: duration must be between 1ms and 24h`);
  }
  return Math.round(ms);
}
