import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, REDACT_PATHS, redactSecrets } from "../src/log.js";

const SECRET = "s3cr3t-VALUE-42";
const dir = mkdtempSync(join(tmpdir(), "apigw-diag-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Logs `objects` (one line each) through a real logger into a file; its lines, parsed. */
function logged(...objects: object[]): Record<string, unknown>[] {
  const file = join(dir, `log-${Math.random().toString(36).slice(2)}.ndjson`);
  const fd = openSync(file, "w");
  const log = createLogger({ level: "info", destination: fd });
  for (const o of objects) log.info(o, "line");
  closeSync(fd);
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** `a.b["c-d"]` -> ["a", "b", "c-d"]; `*` stands for any key. */
const keysOf = (path: string): string[] =>
  [...path.matchAll(/([^.[\]"]+)|\["([^"]+)"\]/g)].map((m) => (m[2] ?? m[1])!);

/** The object that has SECRET at `keys`, `*` taken as `anyKey`. */
function objectAt(keys: string[], anyKey: string): Record<string, unknown> {
  let value: unknown = SECRET;
  for (const k of [...keys].reverse()) value = { [k === "*" ? anyKey : k]: value };
  return value as Record<string, unknown>;
}

describe("log redaction", () => {
  it.each(REDACT_PATHS)("censors a secret at %s", (path) => {
    const keys = keysOf(path);
    const [line] = logged(objectAt(keys, "request"));
    expect(JSON.stringify(line)).not.toContain(SECRET);
    let at: unknown = line;
    for (const k of keys) at = (at as Record<string, unknown>)[k === "*" ? "request" : k];
    expect(at).toBe("[REDACTED]");
  });

  it("compares header names without case, as HTTP does", () => {
    const [line] = logged({
      headers: { Authorization: `Bearer ${SECRET}`, "X-Api-Key": SECRET, Accept: "*/*" },
      probe: { evidence: { headers: { AUTHORIZATION: SECRET } } },
    });
    expect(JSON.stringify(line)).not.toContain(SECRET);
    expect(line!.headers).toEqual({
      Authorization: "[REDACTED]",
      "X-Api-Key": "[REDACTED]",
      Accept: "*/*",
    });
  });

  it("leaves the caller's objects as they were", () => {
    const evidence = { headers: { authorization: SECRET }, status: 403 };
    const finding = { code: "HTTP_FORBIDDEN", evidence };
    const [line] = logged({ event: "finding", ...finding, nested: { evidence } });
    expect(JSON.stringify(line)).not.toContain(SECRET);
    expect(line!.status ?? (line!.evidence as { status: number }).status).toBe(403);
    expect(evidence.headers.authorization).toBe(SECRET);
  });

  it("keeps an error's message and stack while it censors its headers", () => {
    const err = Object.assign(new Error("boom"), { headers: { "x-api-key": SECRET } });
    const [line] = logged({ err });
    const out = line!.err as { message: string; stack: string; headers: Record<string, string> };
    expect(out.message).toBe("boom");
    expect(out.stack).toContain("Error: boom");
    expect(out.headers["x-api-key"]).toBe("[REDACTED]");
    expect(JSON.stringify(line)).not.toContain(SECRET);
  });

  it("hands back the very object when it holds no secret (nothing copied)", () => {
    const o = { event: "run", target: "t", headers: { accept: "*/*" }, cause: { evidence: {} } };
    expect(redactSecrets(o)).toBe(o);
  });
});
