// The domain vocabulary shared by every module. Codes and JSON field names are public API
// (docs/design.md): change them only with a schemaVersion bump.
import type { DnsObservation } from "./probes/dns.js";

export type Layer = "dns" | "path" | "tcp" | "tls" | "http" | "aws";
export type FindingStatus = "pass" | "warn" | "fail";
export type Verdict = "healthy" | "degraded" | "failing";
export type AccessMode = "header" | "host" | "alias" | "domain";
/** Which address families are probed: `auto` tries IPv6 only when this host has IPv6 connectivity. */
export type Family = "auto" | "4" | "6";

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
  "DNS_DOMAIN_ELSEWHERE",
  "DNS_ZONE_FORWARDED",
  "PATH_OK",
  "PATH_UNEXPECTED",
  "PATH_PROXY_ENV",
  "TCP_OK",
  "TCP_TIMEOUT",
  "TCP_REFUSED",
  "TCP_UNREACHABLE",
  "TLS_OK",
  "TLS_TIMEOUT",
  "TLS_UNTRUSTED_CERT",
  "TLS_CERT_EXPIRED",
  "TLS_HOSTNAME_MISMATCH",
  "TLS_HANDSHAKE_FAILED",
  "TLS_12_REFUSED",
  "HTTP_OK",
  "HTTP_FORBIDDEN",
  "HTTP_MISSING_AUTH_TOKEN",
  "HTTP_POLICY_DENY",
  "HTTP_POLICY_NO_ALLOW",
  "HTTP_AUTHORIZER_DENY",
  "HTTP_SIGNATURE_INVALID",
  "HTTP_UNAUTHORIZED",
  "HTTP_THROTTLED",
  "HTTP_BACKEND_ERROR",
  "HTTP_NOT_API_GATEWAY",
  "HTTP_TIMEOUT",
  "HTTP_RESET",
  "HTTP_UNEXPECTED_STATUS",
  "HTTP_MODE_REJECTED",
  "HTTP_DOMAIN_FORBIDDEN",
  "HTTP_MISDIRECTED",
  "AWS_OK",
  "AWS_SG_BLOCKS_SOURCE",
  "AWS_NACL_BLOCKS",
  "AWS_NO_RETURN_ROUTE",
  "AWS_ENDPOINT_STATE",
  "AWS_API_NOT_PRIVATE",
  "AWS_STAGE_MISSING",
  "AWS_POLICY_EXCLUDES_ENDPOINT",
  "AWS_DEFAULT_ENDPOINT_DISABLED",
  "AWS_ACCESS_MODE_STRICT",
  "AWS_NO_DOMAIN_ASSOCIATION",
  "AWS_UNREADABLE",
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

/** The codes of one layer, by their prefix: `LayerCode<"tls">` is every `TLS_*` code. */
export type LayerCode<L extends Layer> = Extract<FindingCode, `${Uppercase<L>}_${string}`>;
export type DnsCode = LayerCode<"dns">;
export type PathCode = LayerCode<"path">;
export type TcpCode = LayerCode<"tcp">;
export type TlsCode = LayerCode<"tls">;
export type HttpCode = LayerCode<"http">;

export interface DnsEvidence {
  /** Per resolver: who was asked, for what, and what came back. */
  resolver?: string;
  name?: string;
  addresses?: string[];
  queries?: DnsObservation[];
  /** Answers that are not private (DNS_PUBLIC_ADDRESS). */
  public?: string[];
  /** DNS_OS_MISMATCH: what the OS resolver said, and what DNS said. */
  os?: string[];
  osError?: string;
  dns?: string[];
  /** Why each answer counts as the endpoint's, or "public" (rules: src/diagnose/addresses.ts). */
  rules?: Record<string, "rfc1918" | "ula" | "privateCidrs" | "dualstack" | "nat64" | "public">;
  /** DNS_DOMAIN_ELSEWHERE: the custom domain's answers against the endpoint's (DNS_ZONE_FORWARDED:
   * `endpointAddresses` are the endpoint's addresses the made-up name resolved to). */
  domain?: string;
  domainAddresses?: string[];
  endpoint?: string;
  endpointAddresses?: string[];
  elsewhere?: string[];
}

/**
 * What this host's kernel does with one endpoint address before any packet leaves (DESIGN:
 * layer 2, `addressInfo`): `null` where unknown (gateway and MTU off Linux, az when no zonal
 * name answers, source and interface when there is no route).
 */
export interface AddressInfo {
  address: string;
  family: 4 | 6;
  az: string | null;
  source: string | null;
  interface: string | null;
  gateway: string | null;
  mtu: number | null;
}

/** The path the traffic must take (config `expectPath`): either list empty means "any". */
export interface ExpectPath {
  sources: string[];
  interfaces: string[];
}

export interface PathEvidence {
  /** PATH_OK / PATH_UNEXPECTED: the address's path, as in `addressInfo`. */
  path?: AddressInfo;
  /** Why the kernel gave no source (ENETUNREACH...). */
  errno?: string;
  expected?: ExpectPath;
  /** PATH_UNEXPECTED: what is not as expected. */
  unexpected?: ("source" | "interface")[];
  /** PATH_PROXY_ENV: the variable set, its value (credentials redacted), and NO_PROXY. */
  variable?: string;
  proxy?: string;
  noProxy?: string;
  name?: string;
}

export interface TcpEvidence {
  port: number;
  errno?: string;
  syscall?: string;
  localAddress?: string;
}

export interface TlsEvidence {
  servername: string;
  protocol?: string;
  cipher?: string;
  alpn?: string;
  issuer?: string;
  subject?: string;
  subjectAltName?: string;
  validFrom?: string;
  validTo?: string;
  fingerprint256?: string;
  authorizationError?: string;
  hostnameError?: string;
  errorCode?: string;
  /** This host's clock when the certificate was judged (TLS_CERT_EXPIRED). */
  localTime?: string;
  /** --insecure: the certificate problem that was reported but not treated as a failure. */
  insecureIgnored?: TlsCode;
  /** TLS_12_REFUSED: each protocol version tried, and whether the handshake completed with it. */
  protocols?: Record<string, "accepted" | "refused">;
}

/**
 * Which kind of policy an AccessDenied message names: the one to change. `scp` and `rcp` are
 * AWS Organizations' service and resource control policies.
 */
export type PolicyType =
  | "resource"
  | "vpc-endpoint"
  | "identity"
  | "scp"
  | "rcp"
  | "permissions-boundary"
  | "session"
  | "unknown";

export interface HttpEvidence {
  request: string;
  status?: number;
  /** x-amzn-RequestId and x-amz-apigw-id: what AWS support asks for first. */
  requestId?: string;
  apigwId?: string;
  errorType?: string;
  server?: string;
  /** API Gateway's error message (`message` or `Message`), up to 512 characters. */
  errorMessage?: string;
  /** The policy an AccessDenied answer names (HTTP_POLICY_*, HTTP_AUTHORIZER_DENY). */
  policyType?: PolicyType;
  body?: string;
  bodyBytes?: number;
  bodyTruncated?: boolean;
  bodyIncomplete?: boolean;
  errorCode?: string;
  /** How the connection ended when no status came (HTTP_RESET). */
  connectionLost?: "reset" | "closed";
  /** The request headers sent, secret values redacted. */
  headers?: Record<string, string>;
  /** When the request was sent (UTC, ISO 8601), and over what: for a support case. */
  requestedAt?: string;
  sni?: string;
  host?: string;
  tlsVersion?: string;
  tlsCipher?: string;
  /** What the access modes answered when the tool compared them (HTTP_MODE_REJECTED...). */
  comparison?: ModeComparison;
}

/** The run's own answer and the other modes' answers through the same address. */
export interface ModeComparison {
  /** Header mode: the run's answer, then host and alias mode. */
  header?: ModeAnswer;
  host?: ModeAnswer;
  alias?: ModeAnswer;
  /** Domain mode: the run's answer, then the API's answers (header, then host mode). */
  domain?: ModeAnswer;
  api?: ModeAnswer[];
}

interface FindingBase {
  status: FindingStatus;
  address?: string;
  stage?: string;
  timings: Timings;
  message: string;
  hint: string;
}

export interface DnsFinding extends FindingBase {
  layer: "dns";
  code: DnsCode;
  evidence: DnsEvidence;
}
export interface PathFinding extends FindingBase {
  layer: "path";
  code: PathCode;
  evidence: PathEvidence;
}
export interface TcpFinding extends FindingBase {
  layer: "tcp";
  code: TcpCode;
  evidence: TcpEvidence;
}
export interface TlsFinding extends FindingBase {
  layer: "tls";
  code: TlsCode;
  evidence: TlsEvidence;
}
export interface HttpFinding extends FindingBase {
  layer: "http";
  code: HttpCode;
  evidence: HttpEvidence;
}

/** A finding's evidence is typed by its layer: narrow on `layer` to read it. */
export type Finding = DnsFinding | PathFinding | TcpFinding | TlsFinding | HttpFinding | AwsFinding;
export type FindingOf<L extends Layer> = Extract<Finding, { layer: L }>;
export type Evidence = Finding["evidence"];

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
  /** The interface endpoint's DNS name; optional only in mode `domain`. */
  endpoint?: string;
  /** Optional only in mode `domain` (then it enables the comparison with the API's own names). */
  apiId?: string;
  /** Empty only in mode `domain`, where base paths take their place. */
  stages: string[];
  mode: AccessMode;
  /** Mode `domain`: the private custom domain name. */
  domain?: string;
  /** Mode `domain`: base paths without slashes; "" is the root (`/`). */
  basePaths: string[];
  family: Family;
  /** Header mode, every stage Forbidden through an address: ask host and alias mode too. */
  compareModes: boolean;
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
  /** Traffic to the endpoint must leave this way (Direct Connect); absent: no expectation. */
  expectPath?: ExpectPath;
  /** The optional aws layer (--aws, config `aws.enabled`): absent when off. */
  aws?: AwsSettings;
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
  endpoint: string | null;
  apiId: string | null;
  mode: AccessMode;
  /** The stages probed; in mode `domain`, the base paths ("/" for the root). */
  stages: string[];
  domain?: string;
  /** What the other access modes answered, when the tool compared them (DESIGN: access modes). */
  comparisons?: ModeAnswer[];
  /** Requests this run sent to compare access modes (0: none, or the daemon reused answers). */
  comparisonRequests: number;
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
  /** One entry per resolved address: its AZ and this host's path toward it (DESIGN: path). Every
   * diagnosis sets it; optional only for reports made by hand (tests, benches). */
  addressInfo?: AddressInfo[];
}

/** One request the tool sent in another access mode, through the same address, to compare. */
export interface ModeAnswer {
  address: string;
  /** The stage (or base path) whose answer is compared. */
  stage: string;
  mode: AccessMode;
  /** The stage asked in this mode (differs from `stage` when a base path is compared). */
  request: string;
  status?: number;
  code?: FindingCode;
  requestId?: string;
  /** Why there is no answer (TCP/TLS failure), when there is none. */
  error?: string;
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

/** The worst of some verdicts (healthy < degraded < failing); healthy for none. */
export function worstVerdict(verdicts: Verdict[]): Verdict {
  return verdicts.reduce<Verdict>((worst, v) => (EXIT[v] > EXIT[worst] ? v : worst), "healthy");
}

/** What a secret value is shown as, in reports, evidence and logs alike. */
export const REDACTED = "[REDACTED]";

/**
 * Request headers whose values are secret whatever the config says (lower case): the config marks
 * them secret, and the logger censors them wherever a logged object carries headers.
 */
export const SECRET_HEADERS: readonly string[] = [
  "x-api-key",
  "authorization",
  "proxy-authorization",
  "cookie",
];

/** An error the user caused (bad flag, bad config, bad input): one line, exit 3, no stack. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The aws layer's settings: the SDK's default credential chain, or this profile. */
export interface AwsSettings {
  profile?: string;
  /** The daemon reads AWS again after this long, not every interval. */
  refreshMs: number;
}

export type AwsCode = LayerCode<"aws">;

/** What the aws layer read and judged: resource ids, the rules that decided, what it could not read. */
export interface AwsEvidence {
  /** The AWS resource the finding is about (sg-, acl-, rtb-, vpce-, the API id, a domain). */
  resource?: string;
  /** Resources of the same kind that were checked too (an endpoint's security groups). */
  resources?: string[];
  subnet?: string;
  az?: string;
  /** This host's source address toward the endpoint address: what the rules were judged against. */
  source?: string;
  /** The rule that decided (`NACL rule 90 deny`, `0.0.0.0/0 -> igw-...`), or the 443 rules seen. */
  rules?: string[];
  /** AWS_UNREADABLE: the actions that could not be read, and why. */
  actions?: string[];
  error?: string;
  /** Policy conditions and references the tool does not evaluate: listed, never guessed. */
  notEvaluated?: string[];
  /** What was read and found in agreement (AWS_OK). */
  checked?: string[];
}

export interface AwsFinding extends FindingBase {
  layer: "aws";
  code: AwsCode;
  evidence: AwsEvidence;
}

// What a run is waiting for (diagnose/pending.ts tells it; report/progress.ts shows it).
/** A check the run has started and not finished. */
export interface PendingCheck {
  layer: Layer;
  address?: string;
  stage?: string;
  /** For dns: the resolver asked, `host:port`. */
  resolver?: string;
  /** The phase's own budget: the check ends by then. */
  timeoutMs: number;
}

/** Told when a check starts; `settled` settles (either way) when it ends. */
export type OnPending = (check: PendingCheck, settled: Promise<unknown>) => void;
