// The one pino instance. Secrets are redacted here as a second line of defence: the plan
// already replaces secret header values before anything is logged.
//
// The redaction is ours, not pino's `redact` option: since pino 10 that option parses its paths
// again for every top-level key of every line (a wildcard path applies to all of them), 31.7 KB
// allocated per line against 3.2 KB without it, and 15 against 3.7 µs. The daemon writes a line
// per target run. This walks the same places (REDACT_PATHS) and copies only what it censors.
import pino, { type Logger } from "pino";
import { REDACTED, SECRET_HEADERS, UsageError } from "./types.js";

/** Where a secret header can be in a logged object, in pino's path syntax (`*`: any key). */
export const REDACT_PATHS = [
  "headers",
  "*.headers",
  "evidence.headers",
  "*.evidence.headers",
].flatMap((at) =>
  SECRET_HEADERS.map((name) => (/^[a-z]+$/.test(name) ? `${at}.${name}` : `${at}["${name}"]`)),
);

const SECRET = new Set(SECRET_HEADERS);

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null;

/** `v` with `key` set to `value`, `v` untouched: a copy of a plain object, an overlay otherwise. */
function withKey(v: Obj, key: string, value: unknown): Obj {
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return { ...v, [key]: value };
  // An Error or a class instance: its own non-enumerable fields (message, stack) stay readable
  // through the prototype, for pino's serializers, and the secret is shadowed.
  return Object.create(v, {
    [key]: { value, enumerable: true, writable: true, configurable: true },
  }) as Obj;
}

/** Header names compare without case, as HTTP does. */
function censorHeaders(headers: unknown): unknown {
  if (!isObject(headers) || Array.isArray(headers)) return headers;
  let out = headers;
  for (const name of Object.keys(headers))
    if (SECRET.has(name.toLowerCase()) && headers[name] !== REDACTED)
      out = withKey(out, name, REDACTED);
  return out;
}

/** `o.headers` and `o.evidence.headers` censored, `o` itself when there was nothing to censor. */
function censorOne(o: Obj): Obj {
  let out = o;
  const headers = censorHeaders(o.headers);
  if (headers !== o.headers) out = withKey(out, "headers", headers);
  const evidence = o.evidence;
  if (isObject(evidence)) {
    const inner = censorHeaders(evidence.headers);
    if (inner !== evidence.headers)
      out = withKey(out, "evidence", withKey(evidence, "headers", inner));
  }
  return out;
}

/** A log object with the secrets at REDACT_PATHS replaced; the caller's objects are not changed. */
export function redactSecrets(obj: Obj): Obj {
  let out = censorOne(obj);
  for (const key of Object.keys(out)) {
    const value = out[key];
    if (!isObject(value)) continue;
    const censored = censorOne(value);
    if (censored !== value) out = withKey(out, key, censored);
  }
  return out;
}

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
      formatters: { log: redactSecrets, bindings: redactSecrets },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: opts.destination ?? 2, sync: true }),
  );
}
