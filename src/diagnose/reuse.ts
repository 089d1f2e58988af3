// The daemon's memory of answers that change rarely, so that a run every interval does not ask
// them again every interval: the Availability Zone of each endpoint address (six zonal names per
// target), whether a TLS 1.2-only handshake is refused (one more handshake per target), and what
// the resolvers say of an API that cannot exist (the zone question, per region). Each answer is
// kept while the target's address set is the one it was asked for, and for at most
// REUSE_MAX_AGE_MS. The one-shot `diagnose` has none: it asks every time.
import ipaddr from "ipaddr.js";
import { now } from "../probes/context.js";
import type { DnsObservation } from "../probes/dns.js";
import type { Finding } from "../types.js";

/**
 * How long an answer is reused: the aws layer's default refresh, for the same reason (what it
 * reads changes by an operator's hand, not by the minute). An address keeps its AZ for its
 * network interface's life and a new address asks again at once; a security policy or a
 * resolver's forwarding changed by hand shows within this.
 */
export const REUSE_MAX_AGE_MS = 10 * 60_000;

/** Entries kept per kind at most: a bound on what a long-lived daemon keeps across reloads. */
const MAX_ENTRIES = 1024;

/** What one resolver answered for the name of an API that cannot exist (DNS_ZONE_FORWARDED). */
export interface ZoneAnswer {
  resolver: string;
  name: string;
  observations: DnsObservation[];
  /** Set when an earlier run's answer is reused: what the finding's message adds. */
  reused?: string;
}

/** A kept answer and when it was got (`now()`, ms). */
export interface Kept<V> {
  value: V;
  at: number;
}

/** One kind of answer, by key, each for the address set it was asked for. */
export class Reused<V> {
  private readonly entries = new Map<string, { addresses: string; kept: Kept<V> }>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly clock: () => number,
    private readonly max = MAX_ENTRIES,
  ) {}

  /** The answer kept for `key`, while asked for the same `addresses` and younger than the bound. */
  get(key: string, addresses: string[] = []): Kept<V> | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.addresses !== addressSet(addresses) || this.clock() - hit.kept.at >= this.maxAgeMs) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.kept;
  }

  set(key: string, addresses: string[], value: V): void {
    this.entries.delete(key);
    // Oldest first in a Map: drop it when full.
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value ?? "");
    this.entries.set(key, { addresses: addressSet(addresses), kept: { value, at: this.clock() } });
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The daemon's: one per daemon, shared by every target's runs (RunOptions.reuse). */
export class ReuseCache {
  /** Address -> AZ, by resolver and endpoint, for the endpoint's address set. */
  readonly azs: Reused<Map<string, string>>;
  /** The TLS 1.2-only handshake's finding (null: accepted), by name and port, for the address set. */
  readonly tls12: Reused<Finding | null>;
  /** The zone question's answers, by region and resolvers. */
  readonly zone: Reused<ZoneAnswer[]>;

  private readonly maxAgeMs: number;
  private readonly clock: () => number;

  constructor(opts: { maxAgeMs?: number; clock?: () => number } = {}) {
    const maxAgeMs = (this.maxAgeMs = opts.maxAgeMs ?? REUSE_MAX_AGE_MS);
    // Monotonic, as every phase is timed: a clock stepped by NTP neither keeps nor drops answers.
    const clock = (this.clock = opts.clock ?? now);
    this.azs = new Reused(maxAgeMs, clock);
    this.tls12 = new Reused(maxAgeMs, clock);
    this.zone = new Reused(maxAgeMs, clock);
  }

  /** What a reused answer's message adds: that it is not this run's, and how old it is. */
  note(kept: Kept<unknown>): string {
    const ago = Math.max(0, Math.round((this.clock() - kept.at) / 1000));
    const bound = Math.round(this.maxAgeMs / 1000);
    return ` (the answer of an earlier run ${ago} s ago, reused for up to ${bound} s)`;
  }
}

/** The same set whatever the order or spelling of its addresses. */
function addressSet(addresses: string[]): string {
  const normal = addresses.map((a) =>
    ipaddr.isValid(a) ? ipaddr.parse(a).toNormalizedString() : a,
  );
  return [...new Set(normal)].sort().join(",");
}
