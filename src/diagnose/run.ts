// Runs a plan: dns, then every address x stage in parallel (bounded), each phase with its own
// timeout, so a black hole costs about one timeout, not one per check.
import type { ProbeContext } from "../probes/context.js";
import { probeDns } from "../probes/dns.js";
import { probeHttp, type HttpObservation } from "../probes/http.js";
import { probeOsLookup, type LookupFn } from "../probes/os-resolver.js";
import { probeTcp } from "../probes/tcp.js";
import { probeTls } from "../probes/tls.js";
import type { Finding, Report, Target, TargetReport, Timings } from "../types.js";
import { version } from "../version.js";
import { isPrivate } from "./addresses.js";
import {
  classifyDns,
  classifyHttp,
  classifyOsLookup,
  classifyTcp,
  classifyTls,
  type SentRequest,
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
  const { findings, addresses, dnsMs } = await resolve(plan, ctx, opts);
  const skipped: TargetReport["skipped"] = [];
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
  }
  const { verdict, primaryCause } = summarize(findings, addresses, target.stages);
  return {
    name: target.name,
    endpoint: target.endpoint,
    apiId: target.apiId,
    mode: target.mode,
    stages: target.stages,
    verdict,
    primaryCause,
    skipped,
    insecure: target.insecure,
    durationMs: Math.round(performance.now() - started),
    findings,
  };
}

async function resolve(
  plan: Plan,
  ctx: ProbeContext,
  opts: RunOptions,
): Promise<{ findings: Finding[]; addresses: string[]; dnsMs: number }> {
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
  const os = plan.target.compareOs ? probeOsLookup(ctx, name, opts.lookup) : undefined;
  const observations = await Promise.all(perResolver);
  const findings = observations.map((obs) => classifyDns(obs, plan.ranges));
  const all = [...new Set(observations.flat().flatMap((o) => o.addresses))];
  // Public answers are reported, never contacted: that traffic would not take Direct Connect.
  const addresses = all.filter((a) => isPrivate(a, plan.ranges));
  if (os) {
    const mismatch = classifyOsLookup(await os, all);
    if (mismatch) findings.push(mismatch);
  }
  const dnsMs = Math.max(0, ...findings.map((f) => f.timings.dns ?? 0));
  return { findings, addresses, dnsMs };
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
    plan.requests.map((req) => limit(() => probePath(plan, ctx, opts, address, req, dnsMs))),
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

interface PathResult {
  connection: Finding[];
  http?: Finding;
  notTried: ("tls" | "http")[];
  reason: string;
}

async function probePath(
  plan: Plan,
  ctx: ProbeContext,
  opts: RunOptions,
  address: string,
  req: { stage: string; path: string },
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
    servername: plan.servername,
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
  const sent = sentRequest(plan, tls);
  const http = withoutSecrets(
    await probeHttp(ctx, {
      socket: tls.tlsSocket,
      host: plan.servername,
      port,
      path: req.path,
      headers: plan.headers,
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
    sent,
  );
  httpFinding.evidence.headers = plan.shownHeaders;
  return { connection: [tcpFinding, tlsFinding], http: httpFinding, notTried: [], reason: "" };
}

/** What a support case asks about the request besides its ids: when, to which name, over what. */
function sentRequest(plan: Plan, tls: { protocol?: string; cipher?: string }): SentRequest {
  const port = plan.target.port;
  return {
    requestedAt: new Date().toISOString(),
    sni: plan.servername,
    // undici sends the origin's host, with the port when it is not 443.
    host: port === 443 ? plan.servername : `${plan.servername}:${port}`,
    tlsVersion: tls.protocol,
    tlsCipher: tls.cipher,
  };
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
