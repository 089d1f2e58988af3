// Runs a plan: dns, then every address x stage in parallel (bounded), each phase with its own
// timeout, so a black hole costs about one timeout, not one per check.
import type { ProbeContext } from "../probes/context.js";
import { probeDns } from "../probes/dns.js";
import { probeHttp, type HttpObservation } from "../probes/http.js";
import { probeOsLookup, type LookupFn } from "../probes/os-resolver.js";
import { probeTcp } from "../probes/tcp.js";
import { probeTls } from "../probes/tls.js";
import { ipv6Connectivity, type Ipv6Connectivity } from "../probes/ipv6-connectivity.js";
import type { Finding, Report, Target, TargetReport, Timings } from "../types.js";
import { version } from "../version.js";
import { judgeAddresses } from "./addresses.js";
import { compareModes, domainElsewhere, type Send } from "./compare.js";
import { splitByFamily } from "./family.js";
import {
  classifyDns,
  classifyHttp,
  classifyOsLookup,
  classifyTcp,
  classifyTls,
} from "./classify.js";
import { limiter } from "./limit.js";
import { makePlan, REDACTED, type Plan } from "./plan.js";
import { summarize, worstVerdict } from "./verdict.js";

export interface RunOptions {
  signal?: AbortSignal;
  /** Connections open at once, across addresses and stages. */
  concurrency?: number;
  /** Replaces the OS resolver (tests). */
  lookup?: LookupFn;
  /** Body bytes read at most per response. */
  maxBodyBytes?: number;
  /** Replaces this host's IPv6 connectivity check for --family auto (tests). */
  ipv6?: () => Ipv6Connectivity;
}

const MAX_CNAMES = 8;
/** An interface endpoint has one address per Availability Zone: more is a broken or hostile answer. */
const MAX_ADDRESSES = 16;
const DEFAULT_BODY_CAP = 64 * 1024;

export async function diagnose(targets: Target[], opts: RunOptions = {}): Promise<Report> {
  const startedAt = new Date();
  const started = performance.now();
  const reports = await Promise.all(targets.map((t) => diagnoseTarget(t, opts)));
  const verdict = worstVerdict(reports.map((r) => r.verdict));
  return {
    schemaVersion: 1,
    tool: { name: "apigw-diag", version: version() },
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    targets: reports,
    verdict,
    exitCode: verdict === "healthy" ? 0 : verdict === "degraded" ? 1 : 2,
  };
}

export async function diagnoseTarget(target: Target, opts: RunOptions = {}): Promise<TargetReport> {
  const started = performance.now();
  const plan = makePlan(target);
  const ctx: ProbeContext = {
    signal: opts.signal ?? new AbortController().signal,
    timeoutMs: target.timeoutMs,
  };
  const resolved = await resolve(plan, ctx, opts);
  const { findings, dnsMs } = resolved;
  if (target.mode === "domain" && target.endpoint) {
    // The domain must lead to this endpoint: resolve the endpoint too, and compare.
    const endpoint = await resolve({ ...plan, resolveName: target.endpoint }, ctx, opts, false);
    findings.push(...endpoint.findings);
    const elsewhere = domainElsewhere(plan, resolved.addresses, endpoint);
    if (elsewhere) findings.push(elsewhere);
  }
  const { tried: addresses, notTried } = splitByFamily(
    resolved.addresses,
    target.family,
    opts.ipv6 ?? ipv6Connectivity,
  );
  const skipped: TargetReport["skipped"] = notTried.map(({ address, reason }) => ({
    address,
    layers: ["tcp", "tls", "http"],
    reason,
  }));
  let comparisons: TargetReport["comparisons"];
  if (addresses.length === 0) {
    skipped.push({ layers: ["tcp", "tls", "http"], reason: "no usable private address from DNS" });
  } else {
    const limit = limiter(opts.concurrency ?? 32);
    const perAddress = await Promise.all(
      addresses.map((address) => probeAddress(plan, ctx, opts, address, dnsMs, limit)),
    );
    for (const r of perAddress) {
      findings.push(...r.findings);
      skipped.push(...r.skipped);
    }
    const send: Send = (address, spec) =>
      limit(() => probePath(plan, ctx, opts, address, spec, dnsMs));
    comparisons = await compareModes(plan, findings, addresses, send);
  }
  const units = plan.requests.map((r) => r.stage);
  const { verdict, primaryCause } = summarize(findings, addresses, units);
  return {
    name: target.name,
    endpoint: target.endpoint ?? null,
    apiId: target.apiId ?? null,
    mode: target.mode,
    stages: units,
    ...(target.domain ? { domain: target.domain } : {}),
    ...(comparisons?.length ? { comparisons } : {}),
    verdict,
    primaryCause,
    skipped,
    insecure: target.insecure,
    durationMs: Math.round(performance.now() - started),
    findings,
  };
}

export interface Resolved {
  findings: Finding[];
  /** The endpoint's addresses (every resolver's, by the rules of addresses.ts). */
  addresses: string[];
  /** Every address any resolver answered, the endpoint's or not. */
  all: string[];
  dnsMs: number;
}

async function resolve(
  plan: Plan,
  ctx: ProbeContext,
  opts: RunOptions,
  compareOs = plan.target.compareOs,
): Promise<Resolved> {
  const name = plan.resolveName;
  const perResolver = plan.resolvers.map((resolver) =>
    Promise.all(
      (["A", "AAAA"] as const).map((type) =>
        probeDns(ctx, {
          name,
          type,
          resolver,
          maxCnames: MAX_CNAMES,
          maxAddresses: MAX_ADDRESSES,
        }),
      ),
    ),
  );
  const os = compareOs ? probeOsLookup(ctx, name, opts.lookup) : undefined;
  const observations = await Promise.all(perResolver);
  const findings = observations.map((obs) => classifyDns(obs, plan.ranges));
  const all = [...new Set(observations.flat().flatMap((o) => o.addresses))];
  // Public answers are reported, never contacted: that traffic would not take Direct Connect.
  // Judged per resolver: the dualstack rule looks at that resolver's A answers for the name.
  const accepted = new Set(
    observations.flatMap((obs) =>
      judgeAddresses([...new Set(obs.flatMap((o) => o.addresses))], plan.ranges)
        .filter((j) => j.rule !== null)
        .map((j) => j.address),
    ),
  );
  const addresses = all.filter((a) => accepted.has(a));
  if (os) {
    const mismatch = classifyOsLookup(await os, all);
    if (mismatch) findings.push(mismatch);
  }
  const dnsMs = Math.max(0, ...findings.map((f) => f.timings.dns ?? 0));
  return { findings, addresses, all, dnsMs };
}

interface AddressResult {
  findings: Finding[];
  skipped: TargetReport["skipped"];
}

/** One connection per stage, opened at once; the first one's TCP and TLS stand for the address. */
async function probeAddress(
  plan: Plan,
  ctx: ProbeContext,
  opts: RunOptions,
  address: string,
  dnsMs: number,
  limit: <T>(task: () => Promise<T>) => Promise<T>,
): Promise<AddressResult> {
  const results = await Promise.all(
    plan.requests.map((req) =>
      limit(() => probePath(plan, ctx, opts, address, planSpec(plan, req), dnsMs)),
    ),
  );
  const findings: Finding[] = [];
  const skipped: TargetReport["skipped"] = [];
  const [first] = results;
  if (first) findings.push(...first.connection);
  // The first connection's TCP/TLS findings stand for the address (no stage). A later one is
  // reported, for its stage, only where it failed differently: the same failure is the address's.
  const addressCodes = new Set(first?.connection.map((f) => f.code));
  results.forEach((r, i) => {
    if (i > 0)
      findings.push(
        ...r.connection
          .filter((f) => f.status === "fail" && !addressCodes.has(f.code))
          .map((f) => ({ ...f, stage: plan.requests[i]?.stage })),
      );
    if (r.http) findings.push(r.http);
    else
      skipped.push({
        address,
        stage: plan.requests[i]?.stage,
        layers: r.notTried,
        reason: r.reason,
      });
  });
  return { findings, skipped: dedupeSkips(skipped) };
}

export interface PathResult {
  connection: Finding[];
  http?: Finding;
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

const planSpec = (plan: Plan, req: { stage: string; path: string }): RequestSpec => ({
  ...req,
  servername: plan.servername,
  headers: plan.headers,
  shownHeaders: plan.shownHeaders,
});

async function probePath(
  plan: Plan,
  ctx: ProbeContext,
  opts: RunOptions,
  address: string,
  req: RequestSpec,
  dnsMs: number,
): Promise<PathResult> {
  const port = plan.target.port;
  const tcp = await probeTcp(ctx, { address, port });
  const tcpFinding = classifyTcp(tcp, dnsMs);
  if (!tcp.socket)
    return {
      connection: [tcpFinding],
      notTried: ["tls", "http"],
      reason: `${tcpFinding.code} on ${address}`,
    };
  const tls = await probeTls(ctx, {
    socket: tcp.socket,
    servername: req.servername,
    secureContext: plan.secureContext,
  });
  const tlsFinding = classifyTls(tls, address, tcpFinding.timings, plan.target.insecure);
  if (!tls.tlsSocket || tlsFinding.status === "fail") {
    tls.tlsSocket?.destroy();
    return {
      connection: [tcpFinding, tlsFinding],
      notTried: ["http"],
      reason: `${tlsFinding.code} on ${address}`,
    };
  }
  const http = withoutSecrets(
    await probeHttp(ctx, {
      socket: tls.tlsSocket,
      host: req.servername,
      port,
      path: req.path,
      headers: req.headers,
      maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_BODY_CAP,
    }),
    plan.secrets,
  );
  const before: Timings = tlsFinding.timings;
  const httpFinding = classifyHttp(
    http,
    { address, stage: req.stage, path: req.path },
    before,
    plan.target.expectStatus,
  );
  httpFinding.evidence.headers = req.shownHeaders;
  return { connection: [tcpFinding, tlsFinding], http: httpFinding, notTried: [], reason: "" };
}

/**
 * The response as reported: a proxy or error page that echoes the request (a WAF, a debug
 * endpoint) must not put our API key into the report, the logs or the metrics.
 */
function withoutSecrets(o: HttpObservation, secrets: string[]): HttpObservation {
  if (secrets.length === 0) return o;
  const scrub = (text: string): string =>
    secrets.reduce((t, secret) => t.split(secret).join(REDACTED), text);
  return {
    ...o,
    body: o.body === undefined ? undefined : scrub(o.body),
    errorMessage: o.errorMessage === undefined ? undefined : scrub(o.errorMessage),
    headers:
      o.headers === undefined
        ? undefined
        : Object.fromEntries(Object.entries(o.headers).map(([k, v]) => [k, scrub(v)])),
  };
}

function dedupeSkips(skips: TargetReport["skipped"]): TargetReport["skipped"] {
  const byReason = new Map<string, TargetReport["skipped"][number]>();
  for (const s of skips) {
    const key = `${s.address}|${s.reason}|${s.layers.join()}`;
    const seen = byReason.get(key);
    if (seen)
      seen.stage = undefined; // same cause for several stages: it is the address's
    else byReason.set(key, { ...s });
  }
  return [...byReason.values()];
}
