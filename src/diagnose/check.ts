// What one check of a run is and what it gives back: shared by run.ts, which makes them, and
// compare.ts, which sends the same checks under the API's other names.
import type { Finding, HttpFinding, Layer, Unfinished } from "../types.js";

export interface Resolved {
  findings: Finding[];
  /** The endpoint's addresses (every resolver's, by the rules of addresses.ts). */
  addresses: string[];
  /** Every address any resolver answered, the endpoint's or not. */
  all: string[];
  dnsMs: number;
  unfinished: Unfinished[];
  /** The OS resolver comparison, still running: a finding only where the OS differs. */
  osFinding?: Promise<Finding | null>;
}

export interface PathResult {
  connection: Finding[];
  http?: HttpFinding;
  /** The layer a cancellation cut short. */
  unfinished?: Layer;
  notTried: ("tls" | "http")[];
  reason: string;
}

/** One request as sent: the name in SNI and Host, the headers, the path, the stage it is for. */
export interface RequestSpec {
  stage: string;
  path: string;
  servername: string;
  headers: Record<string, string>;
  shownHeaders: Record<string, string>;
}
