// The domain vocabulary shared by every module. Codes and JSON field names are public API
// (DESIGN.md): change them only with a schemaVersion bump.

export type Layer = "dns" | "tcp" | "tls" | "http";
export type FindingStatus = "pass" | "warn" | "fail";
export type Verdict = "healthy" | "degraded" | "failing";
export type AccessMode = "header" | "host" | "alias";

export const FINDING_CODES = [
  "DNS_OK",
  "DNS_NXDOMAIN",
  "DNS_NODATA",
  "DNS_SERVFAIL",
  "DNS_REFUSED",
  "DNS_TIMEOUT",
  "DNS_MALFORMED",
  "DNS_PUBLIC_ADDRESS",
  "DNS_OS_MISMATCH",
  "TCP_OK",
  "TCP_TIMEOUT",
  "TCP_REFUSED",
  "TCP_UNREACHABLE",
  "TLS_OK",
  "TLS_TIMEOUT",
  "TLS_UNTRUSTED_CERT",
  "TLS_HOSTNAME_MISMATCH",
  "TLS_HANDSHAKE_FAILED",
  "HTTP_OK",
  "HTTP_FORBIDDEN",
  "HTTP_MISSING_AUTH_TOKEN",
  "HTTP_POLICY_DENY",
  "HTTP_POLICY_NO_ALLOW",
  "HTTP_UNAUTHORIZED",
  "HTTP_THROTTLED",
  "HTTP_BACKEND_ERROR",
  "HTTP_NOT_API_GATEWAY",
  "HTTP_TIMEOUT",
  "HTTP_UNEXPECTED_STATUS",
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

/** Phase durations in milliseconds; a phase that did not run is absent. */
export interface Timings {
  dns?: number;
  connect?: number;
  tls?: number;
  ttfb?: number;
  total: number;
}

export type Evidence = Record<string, unknown>;

export interface Finding {
  layer: Layer;
  code: FindingCode;
  status: FindingStatus;
  address?: string;
  stage?: string;
  timings: Timings;
  message: string;
  hint: string;
  evidence: Evidence;
}

export interface HeaderSpec {
  name: string;
  value: string;
  secret: boolean;
}

export interface Resolver {
  host: string;
  port: number;
}

/** One fully resolved target: everything a diagnosis needs, already validated. */
export interface Target {
  name: string;
  endpoint: string;
  apiId: string;
  stages: string[];
  mode: AccessMode;
  path: string;
  expectStatus: number[];
  headers: HeaderSpec[];
  port: number;
  /** Empty: the system's nameservers. */
  resolvers: Resolver[];
  timeoutMs: number;
  caFile?: string;
  privateCidrs: string[];
  /** Compare with the OS resolver (dns.lookup). Off in the demo and tests on loopback. */
  compareOs: boolean;
  insecure: boolean;
}

export interface PrimaryCause {
  layer: Layer;
  code: FindingCode;
  message: string;
  hint: string;
  addresses: string[];
  stages: string[];
}

/** A check the run started and did not finish: it was cancelled (SIGINT, SIGTERM, shutdown). */
export interface Unfinished {
  layer: Layer;
  address?: string;
  stage?: string;
  /** For dns: the resolver that had not answered yet. */
  resolver?: string;
}

export interface TargetReport {
  name: string;
  endpoint: string;
  apiId: string;
  mode: AccessMode;
  stages: string[];
  /** The private addresses DNS gave and the run connected to (public ones are never contacted). */
  addresses: string[];
  verdict: Verdict;
  primaryCause: PrimaryCause | null;
  /** Layers not tried, and why (a lower layer failed). */
  skipped: { address?: string; stage?: string; layers: Layer[]; reason: string }[];
  /** Checks cut short by a cancellation: never reported as timeouts. Empty when none. */
  unfinished: Unfinished[];
  insecure: boolean;
  durationMs: number;
  findings: Finding[];
}

export interface Report {
  schemaVersion: 1;
  tool: { name: "apigw-diag"; version: string };
  startedAt: string;
  durationMs: number;
  targets: TargetReport[];
  verdict: Verdict;
  /** True when the run was cancelled before every check finished: exit code 3. */
  interrupted: boolean;
  exitCode: 0 | 1 | 2 | 3;
}

export const EXIT = { healthy: 0, degraded: 1, failing: 2, error: 3 } as const;

/** An error the user caused (bad flag, bad config, bad input): one line, exit 3, no stack. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
