// Basic auth against the web config's bcrypt hashes. A bcrypt costs tens of milliseconds of CPU
// on purpose, so a scrape every 15 s must not pay it each time: a verified password is kept as a
// keyed digest (never as text) and compared in constant time; a refused one is remembered in a
// bounded set. What still needs a bcrypt runs one at a time, with a short queue: a flood of wrong
// passwords costs the daemon one core at most, and the scrapes whose password is known are
// answered past it.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import bcrypt from "bcryptjs";

export type AuthOutcome = "ok" | "denied" | "busy";

/** Refused (user, password) pairs remembered; the set is forgotten whole when full. */
const MAX_DENIED = 1024;
/** bcrypt comparisons waiting their turn; more are answered "busy" at once. */
const MAX_WAITING = 8;

export class BasicAuth {
  private readonly key = randomBytes(32);
  /** user -> digest of the last password that bcrypt accepted for that user's hash. */
  private readonly verified = new Map<string, Buffer>();
  private readonly denied = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly users: Map<string, string>) {}

  get enabled(): boolean {
    return this.users.size > 0;
  }

  /** `authorization` is the request's header, as sent. */
  async check(authorization: string | undefined): Promise<AuthOutcome> {
    const creds = parseBasic(authorization);
    if (!creds) return "denied";
    const hash = this.users.get(creds.user);
    // An unknown user costs what a known one does: no telling which names exist by timing.
    const against = hash ?? this.users.values().next().value!;
    const digest = this.digest(creds.user, against, creds.password);
    const known = this.verified.get(creds.user);
    if (hash && known && timingSafeEqual(known, digest)) return "ok";
    const deniedKey = digest.toString("base64");
    if (this.denied.has(deniedKey)) return "denied";
    if (this.waiting >= MAX_WAITING) return "busy";
    this.waiting++;
    const match = this.queue.then(() => bcrypt.compare(creds.password, against));
    this.queue = match.catch(() => false);
    let ok: boolean;
    try {
      ok = (await match) && hash !== undefined;
    } catch {
      ok = false;
    } finally {
      this.waiting--;
    }
    if (ok) {
      this.verified.set(creds.user, digest);
      return "ok";
    }
    if (this.denied.size >= MAX_DENIED) this.denied.clear();
    this.denied.add(deniedKey);
    return "denied";
  }

  private digest(user: string, hash: string, password: string): Buffer {
    return createHmac("sha256", this.key).update(`${user}\0${hash}\0${password}`).digest();
  }
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^basic +([A-Za-z0-9+/=]+) *$/i.exec(header ?? "");
  if (!match) return undefined;
  const text = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon === -1) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}
