// Runs prepared targets: dns, then every address in parallel (bounded), one connection each for
// its stages' requests, each phase with its own timeout, so a black hole costs about one timeout,
// not one per check. A cancelled run (SIGINT, SIGTERM, daemon shutdown) ends every phase at once
// and says what did not finish.
import { randomInt } from "node:crypto";
import pLimit, { type LimitFunction } from "p-limit";
import { now, settlesWithin, type ProbeContext } from "../probes/context.js";
import { probeDns, type DnsObservation } from "../probes/dns.js";
import { HttpConnection, preloadHttp, type HttpObservation } from "../probes/http.js";
import { probeOsLookup, type LookupFn } from "../probes/os-resolver.js";
import { probeTcp } from "../probes/tcp.js";
import { probeTls } from "../probes/tls.js";
import { ipv6Connectivity, type Ipv6Connectivity } from "../probes/ipv6-connectivity.js";
import {
  REDACTED,
  type Finding,
  type Report,
  type TargetReport,
  type Timings,
  type Unfinished,
} from "../types.js";
import { judgeAddresses, needsEndpointV6 } from "./addresses.js";
import { pending, type OnPending } from "./pending.js";
import { compareModes, domainElsewhere, type ComparisonCache, type Send } from "./compare.js";
import { parseEndpoint } from "../config/names.js";
import { splitByFamily } from "./family.js";
import { answeringResolver, pathLayer, withPathFacts } from "./path.js";
import type { ReuseCache, ZoneAnswer } from "./reuse.js";
import { DOMAIN_NOT_RESOLVED } from "../hints.js";
import {
  classifyDns,
  classifyHttp,
  classifyOsLookup,
  classifyTcp,
  classifyTls,
  classifyTls12,
  finding,
  type SentRequest,
} from "./classify.js";
import type { PathResult, RequestSpec, Resolved } from "./check.js";
import type { PreparedTarget } from "../config/prepare.js";
import { buildReport } from "../report/model.js";
import { summarize } from "./verdict.js";

export interface RunOptions {
  signal?: AbortSignal;
  /**
   * Connections open at once, across every target and stage of this process's runs. Used to
   * make `limit` when none is given.
   */
  concurrency?: number;
  /** A limit shared with other runs (the daemon's runs share one). */
  limit?: LimitFunction;
  /** Replaces the OS resolver (tests). */
  lookup?: LookupFn;
  /** Body bytes read at most per response. */
  maxBodyBytes?: number;
  /** Replaces this host's IPv6 connectivity check for --family auto (tests). */
  ipv6?: () => Ipv6Connectivity;
  /** Told of every check as it starts waiting (a terminal's progress line). */
  onPending?: OnPending;
  /** The daemon's: comparisons of access modes reused while a target's findings stay alike. */
  comparisonCache?: ComparisonCache;
  /** The zone-forward questions of this run, one per region and resolvers (diagnose() shares it). */
  zoneQuestions?: Map<string, Promise<ZoneAnswer[]>>;
  /** The daemon's: AZs, the TLS 1.2 check and the zone question reused across runs (reuse.ts). */
  reuse?: ReuseCache;
}

export type { ZoneAnswer };

export const DEFAULT_CONCURRENCY = 32;
const MAX_CNAMES = 8;
/** An interface endpoint has one address per Availability Zone: more is a broken or hostile answer. */
const MAX_ADDRESSES = 16;
const DEFAULT_BODY_CAP = 64 * 1024;

/** One run of every target, sharing one connection limit. */
export async function diagnose(targets: PreparedTarget[], opts: RunOptions = {}): Promise<Report> {
  const startedAt = new Date();
  const started = now();
  const shared = {
    ...opts,
    limit: opts.limit ?? pLimit(opts.concurrency ?? DEFAULT_CONCURRENCY),
    zoneQuestions: opts.zoneQuestions ?? new Map<string, Promise<ZoneAnswer[]>>(),
  };
  const reports = await Promise.all(targets.map((t) => diagnoseTarget(t, shared)));
  return buildReport(reports, {
    startedAt,
    durationMs: Math.round(now() - started),
    cancelled: opts.signal?.aborted ?? false,
  });
}

export async function diagnoseTarget(
  target: PreparedTarget,
  opts: RunOptions = {},
): Promise<TargetReport> {
  // Before any phase's clock starts: loading it blocks the event loop, which inside a phase would
  // be reported as the network's time (a DNS answer or a handshake read late). Once per process.
  await preloadHttp();
  // The optional aws layer (--aws): imported only when on, so a run without it loads no AWS SDK.
  // It reads AWS while the probes run, and judges what it read once they are done.
  const aws = target.aws ? await startAwsLayer(target, opts.signal) : undefined;
  const started = now();
  const ctx: ProbeContext = {
    signal: opts.signal ?? new AbortController().signal,
    timeoutMs: target.timeoutMs,
  };
  const limit = opts.limit ?? pLimit(opts.concurrency ?? DEFAULT_CONCURRENCY);
  // Asked beside everything else: it costs no time unless the resolver is slow to say NXDOMAIN.
  const zone = askZone(target, ctx, opts);
  const resolved = await resolve(target, ctx, opts);
  const { findings, dnsMs, unfinished, osFinding } = resolved;
  if (target.mode === "domain") withDomainHints(findings);
  const dnsFindings = findings.length;
  let endpointAll = target.mode === "domain" ? [] : resolved.all;
  if (target.mode === "domain" && target.endpoint && unfinished.length === 0) {
    // The domain must lead to this endpoint: resolve the endpoint too, and compare.
    const endpoint = await resolve({ ...target, resolveName: target.endpoint }, ctx, opts, false);
    findings.push(...endpoint.findings);
    unfinished.push(...endpoint.unfinished);
    endpointAll = endpoint.all;
    const elsewhere = domainElsewhere(target, resolved.addresses, endpoint);
    if (elsewhere) findings.push(elsewhere);
  }
  const { tried: addresses, notTried } = splitByFamily(
    resolved.addresses,
    target.family,
    opts.ipv6 ?? ipv6Connectivity,
  );
  // The path layer (diagnose/path.ts): local facts and zonal names, alongside the connections.
  const resolver = answeringResolver(target, findings);
  const which = { resolved: resolved.addresses, tried: addresses };
  const path = pathLayer(target, ctx, which, resolver, undefined, opts.reuse);
  const skipped: TargetReport["skipped"] = notTried.map(({ address, reason }) => ({
    address,
    layers: ["tcp", "tls", "http"],
    reason,
  }));
  let comparisons: TargetReport["comparisons"];
  let comparisonRequests = 0;
  let all = findings;
  if (unfinished.length > 0) {
    skipped.push({ layers: ["tcp", "tls", "http"], reason: INTERRUPTED });
  } else if (addresses.length === 0) {
    const reason =
      notTried.length > 0
        ? `no address of the family probed (--family ${target.family})`
        : "no usable private address from DNS";
    skipped.push({ layers: ["tcp", "tls", "http"], reason });
  } else {
    const perAddress = await Promise.all(
      addresses.map((address) => probeAddress(target, ctx, opts, address, dnsMs, limit)),
    );
    for (const r of perAddress) {
      findings.push(...r.findings);
      skipped.push(...r.skipped);
      unfinished.push(...r.unfinished);
    }
    if (unfinished.length === 0) {
      const send: Send = async (address, spec) => {
        const r = await limit(() => probePath(target, ctx, opts, address, spec, dnsMs));
        if (r.unfinished) unfinished.push({ layer: r.unfinished, address, stage: spec.stage });
        return r;
      };
      const [compared, tls12] = await Promise.all([
        compareModes(target, findings, addresses, send, opts.comparisonCache),
        reusedTls12(target, ctx, findings, addresses, limit, opts.reuse),
      ]);
      all = tls12 ? [...compared.findings, tls12] : compared.findings;
      comparisons = compared.answers;
      comparisonRequests = compared.requests;
    }
  }
  const paths = await path;
  all = withPathFacts(all, paths.addressInfo);
  const mismatch = await osFinding;
  const forwarded = zoneForwarded(await zone, endpointAll);
  // DNS findings first, as they were seen: the comparisons belong with them; then the path layer.
  all = [
    ...all.slice(0, dnsFindings),
    ...(mismatch ? [mismatch] : []),
    ...forwarded,
    ...all.slice(dnsFindings),
  ];
  const firstAboveDns = all.findIndex((f) => f.layer !== "dns");
  all.splice(firstAboveDns < 0 ? all.length : firstAboveDns, 0, ...paths.findings);
  if (aws && unfinished.length === 0) {
    // This host's source address toward each endpoint address, from the path layer.
    const sources = new Map(paths.addressInfo.map((i) => [i.address, i.source ?? undefined]));
    all.push(...(await aws(addresses, sources)));
  }
  const units = target.requests.map((r) => r.stage);
  const { verdict, primaryCause } = summarize(all, addresses, units);
  return {
    name: target.name,
    endpoint: target.endpoint ?? null,
    apiId: target.apiId ?? null,
    mode: target.mode,
    stages: units,
    ...(target.domain ? { domain: target.domain } : {}),
    ...(comparisons?.length ? { comparisons } : {}),
    comparisonRequests,
    addresses,
    verdict,
    primaryCause,
    skipped,
    unfinished,
    insecure: target.insecure,
    durationMs: Math.round(now() - started),
    findings: all,
    addressInfo: paths.addressInfo,
  };
}

/** A and AAAA of `name`, asked of one resolver at once. */
function askAddresses(
  ctx: ProbeContext,
  name: string,
  resolver: Parameters<typeof probeDns>[1]["resolver"],
): Promise<DnsObservation[]> {
  return Promise.all(
    (["A", "AAAA"] as const).map((type) =>
      probeDns(ctx, { name, type, resolver, maxCnames: MAX_CNAMES, maxAddresses: MAX_ADDRESSES }),
    ),
  );
}

/** Ten characters as API Gateway's ids have: a name no API has, asked fresh on every run. */
function madeUpApiId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from({ length: 10 }, () => alphabet[randomInt(alphabet.length)]).join("");
}

/**
 * DNS_ZONE_FORWARDED's question: the name of an API that cannot exist in the endpoint's region,
 * to every resolver of the target, once per run, region and resolvers. Bounded by the DNS timeout.
 */
function askZone(
  target: PreparedTarget,
  ctx: ProbeContext,
  opts: RunOptions,
): Promise<ZoneAnswer[]> {
  const { region } = target.endpoint ? parseEndpoint(target.endpoint) : {};
  if (!region) return Promise.resolve([]);
  const resolvers = target.resolvers.map((r) => `${r.host}:${r.port}`);
  const key = `${region}|${resolvers.join(",")}`;
  const asked = opts.zoneQuestions?.get(key);
  if (asked) return asked;
  const { reuse } = opts;
  const kept = reuse?.zone.get(key);
  if (kept) {
    const reused = kept.value.map((a) => ({ ...a, reused: reuse?.note(kept) }));
    return Promise.resolve(reused);
  }
  const name = `${madeUpApiId()}.execute-api.${region}.amazonaws.com`;
  const question = Promise.all(
    target.resolvers.map(async (resolver, i) => ({
      resolver: resolvers[i] ?? "",
      name,
      observations: await askAddresses(ctx, name, resolver),
    })),
  );
  opts.zoneQuestions?.set(key, question);
  // Kept for the daemon's next runs when every resolver answered (NXDOMAIN is an answer).
  if (reuse)
    void question.then((answers) => {
      const answered = answers.every((a) => a.observations.every((o) => o.error === undefined));
      if (answered) reuse.zone.set(key, [], answers);
    });
  return question;
}

/** A made-up API's name that resolves to this endpoint's addresses: the whole zone is forwarded. */
function zoneForwarded(answers: ZoneAnswer[], endpointAll: string[]): Finding[] {
  const found = answers.flatMap(({ resolver, name, observations, reused }) => {
    const addresses = [...new Set(observations.flatMap((o) => o.addresses))];
    const ours = addresses.filter((a) => endpointAll.includes(a));
    if (ours.length === 0) return [];
    const ms = Math.max(0, ...observations.map((o) => o.durationMs));
    return [
      finding(
        "DNS_ZONE_FORWARDED",
        `${resolver}: ${name}, the name of an API that cannot exist, resolves to this endpoint's ${ours.join(", ")}${reused ?? ""}`,
        { resolver, name, addresses, queries: observations, endpointAddresses: ours },
        // A reused answer was not timed by this run: nothing for the dns histogram.
        reused === undefined ? { dns: ms, total: ms } : { total: 0 },
      ),
    ];
  });
  return found;
}

/**
 * TLS_12_REFUSED: when an address negotiated TLS 1.3, one more handshake to it, offering at most
 * TLS 1.2, once per target: the security policy is the API's (or the domain's), not an address's.
 * `decided`: the handshake completed or was refused (not cut short, timed out or unconnected).
 */
async function checkTls12(
  target: PreparedTarget,
  ctx: ProbeContext,
  address: string,
): Promise<{ finding: Finding | null; decided: boolean }> {
  const tcp = await probeTcp(ctx, { address, port: target.port });
  if (!tcp.socket) return { finding: null, decided: false };
  const before = classifyTcp(tcp.observation, 0).timings;
  const tls = await probeTls(ctx, {
    socket: tcp.socket,
    servername: target.servername,
    maxVersion: "TLSv1.2",
  });
  tls.socket?.destroy();
  const o = tls.observation;
  const finding = classifyTls12(o, address, before, "TLSv1.3");
  return { finding, decided: finding !== null || o.handshakeCompleted === true };
}

/** The address that negotiated TLS 1.3, if any: where the TLS 1.2 check is made. */
const tls13Address = (findings: Finding[]): string | undefined =>
  findings.find(
    (f) => f.layer === "tls" && f.status !== "fail" && f.evidence.protocol === "TLSv1.3",
  )?.address;

/**
 * checkTls12 in the limit, or the daemon's earlier answer for the same name, port and addresses
 * (reuse.ts): a reused finding says so and carries no timings of this run.
 */
async function reusedTls12(
  target: PreparedTarget,
  ctx: ProbeContext,
  findings: Finding[],
  addresses: string[],
  limit: LimitFunction,
  reuse: ReuseCache | undefined,
): Promise<Finding | null> {
  const address = tls13Address(findings);
  if (!address) return null;
  const key = `${target.servername.toLowerCase()}|${target.port}`;
  const kept = reuse?.tls12.get(key, addresses);
  if (kept) {
    const f = kept.value;
    return f && { ...f, message: `${f.message}${reuse?.note(kept) ?? ""}`, timings: { total: 0 } };
  }
  const { finding, decided } = await limit(() => checkTls12(target, ctx, address));
  if (decided) reuse?.tls12.set(key, addresses, finding);
  return finding;
}

const INTERRUPTED = "the run was interrupted before this check";

/** Imported only when the aws layer is on: a run without it loads no AWS SDK. */
async function startAwsLayer(target: PreparedTarget, signal: AbortSignal | undefined) {
  const { startAws } = await import("../aws/layer.js");
  return startAws(target, signal ?? new AbortController().signal);
}

/** The custom domain's own DNS failures: the private hosted zone and its forwarding first. */
function withDomainHints(findings: Finding[]): void {
  for (const f of findings)
    if (f.code === "DNS_NXDOMAIN" || f.code === "DNS_NODATA")
      f.hint = `${DOMAIN_NOT_RESOLVED} ${f.hint}`;
}

async function resolve(
  target: PreparedTarget,
  ctx: ProbeContext,
  opts: RunOptions,
  compareOs = target.compareOs,
): Promise<Resolved> {
  const name = target.resolveName;
  const perResolver = target.resolvers.map((resolver) => askAddresses(ctx, name, resolver));
  target.resolvers.forEach(({ host, port }, i) =>
    opts.onPending?.(
      {
        layer: "dns",
        resolver: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
        timeoutMs: ctx.timeoutMs,
      },
      perResolver[i] as Promise<unknown>,
    ),
  );
  const os = compareOs ? probeOsLookup(ctx, name, opts.lookup) : undefined;
  const observations = await Promise.all(perResolver);
  const cut = (pair: DnsObservation[]) => pair.some((o) => o.error === "cancelled");
  const unfinished: Unfinished[] = observations
    .filter(cut)
    .map((pair) => ({ layer: "dns", resolver: pair[0]?.resolver }));
  const answered = target.resolvers
    .map((resolver, i) => ({ resolver, pair: observations[i] ?? [] }))
    .filter(({ pair }) => !cut(pair));
  // Per resolver, the endpoint's own AAAA answers: an IPv6 global unicast answer counts only when
  // it is among them (addresses.ts).
  const judged = await Promise.all(
    answered.map(async ({ resolver, pair }) => {
      const addresses = [...new Set(pair.flatMap((o) => o.addresses))];
      const endpointV6 = await endpointAaaa(target, ctx, resolver, pair, addresses);
      return { pair, addresses, endpointV6 };
    }),
  );
  const findings = judged.map((j) => classifyDns(j.pair, target.ranges, j.endpointV6));
  const all = [...new Set(judged.flatMap((j) => j.addresses))];
  // Public answers are reported, never contacted: that traffic would not take Direct Connect.
  const accepted = new Set(
    judged.flatMap((j) =>
      judgeAddresses(j.addresses, target.ranges, j.endpointV6)
        .filter((v) => v.rule !== null)
        .map((v) => v.address),
    ),
  );
  const addresses = all.filter((a) => accepted.has(a));
  const dnsMs = Math.max(0, ...findings.map((f) => f.timings.dns ?? 0));
  // The OS answer is compared when it comes, without holding up the connections meanwhile.
  // A cancelled lookup said nothing about /etc/hosts: no finding, not a mismatch.
  const osFinding = os?.then((seen) => (seen.cancelled ? null : classifyOsLookup(seen, all)));
  return { findings, addresses, all, dnsMs, unfinished, osFinding };
}

/**
 * The AAAA answers of the endpoint's own vpce name from this resolver: the name resolved when it
 * is that name, else asked, and only when an IPv6 global unicast answer depends on it.
 */
async function endpointAaaa(
  target: PreparedTarget,
  ctx: ProbeContext,
  resolver: PreparedTarget["resolvers"][number],
  pair: DnsObservation[],
  addresses: string[],
): Promise<string[]> {
  const own = (obs: DnsObservation[]) =>
    obs.filter((o) => o.type === "AAAA").flatMap((o) => o.addresses);
  const endpoint = target.endpoint?.toLowerCase().replace(/\.$/, "");
  if (!endpoint) return [];
  if (target.resolveName.toLowerCase().replace(/\.$/, "") === endpoint) return own(pair);
  if (!needsEndpointV6(addresses, target.ranges)) return [];
  const asked = await probeDns(ctx, {
    name: endpoint,
    type: "AAAA",
    resolver,
    maxCnames: MAX_CNAMES,
    maxAddresses: MAX_ADDRESSES,
  });
  return asked.addresses;
}

interface AddressResult {
  findings: Finding[];
  skipped: TargetReport["skipped"];
  unfinished: Unfinished[];
}

/**
 * One connection per address, every stage's request on it in turn, as a browser or an SDK would:
 * TCP and TLS know nothing of the stage (the same address, the same SNI), so the connection's
 * findings are the address's. The stages the connection cannot carry (it closed, a request on it
 * failed, or an answer is slow to come) each get a connection of their own, all at once, as
 * before. A connection that fails before HTTP is the address's failure: the other stages are not
 * tried. Either way a hang costs about one timeout, not one per stage.
 */
async function probeAddress(
  target: PreparedTarget,
  ctx: ProbeContext,
  opts: RunOptions,
  address: string,
  dnsMs: number,
  limit: LimitFunction,
): Promise<AddressResult> {
  const specs = target.requests.map((req) => preparedSpec(target, req));
  const [head] = specs;
  if (!head) return { findings: [], skipped: [], unfinished: [] };
  const done: Done[] = [];
  const own: Promise<Done>[] = [];
  const handOff = (rest: RequestSpec[]) => {
    for (const spec of rest)
      own.push(
        limit(() => probePath(target, ctx, opts, address, spec, dnsMs)).then((r) => ({ spec, r })),
      );
  };
  // One slot of the limit for the whole connection: it is one connection open at a time.
  const connected = await limit(async () => {
    const connected = await connect(target, ctx, address, head.servername, dnsMs, opts.onPending);
    let open = connected.open;
    let next = 0; // the first stage neither sent on it nor handed off
    while (open && next < specs.length) {
      const spec = specs[next++] as RequestSpec;
      const sending = sendOn(target, ctx, opts, address, open, spec);
      if (next < specs.length && !(await settlesWithin(sending, hedgeMs(ctx)))) {
        handOff(specs.slice(next));
        next = specs.length;
      }
      const r = await sending;
      if (r.lost) handOff([spec]);
      else done.push({ spec, r });
      if (r.lost || !r.open) {
        await open.conn.close();
        open = undefined;
      }
    }
    await open?.conn.close();
    if (connected.open) handOff(specs.slice(next));
    return connected;
  });
  const ownDone = await Promise.all(own);
  const findings: Finding[] = [...connected.connection];
  const skipped: TargetReport["skipped"] = [];
  const unfinished: Unfinished[] = [];
  // A connection of a stage's own is reported, for its stage, only where it failed differently
  // from the address's: the same failure is the address's.
  const addressCodes = new Set(connected.connection.map((f) => f.code));
  for (const { spec, r } of ownDone)
    findings.push(
      ...r.connection
        .filter((f) => f.status === "fail" && !addressCodes.has(f.code))
        .map((f) => ({ ...f, stage: spec.stage })),
    );
  // Cut short or failed before HTTP: no stage had a connection to ride on.
  const failed = connected.failed;
  const riders = failed ? specs.map((spec) => ({ spec, r: failed })) : [];
  for (const { spec, r } of [...riders, ...done, ...ownDone]) {
    const stage = spec.stage;
    if (r.unfinished) unfinished.push({ layer: r.unfinished, address, stage });
    if (r.http) findings.push(r.http);
    else if (r.notTried.length > 0)
      skipped.push({ address, stage, layers: r.notTried, reason: r.reason });
  }
  return { findings, skipped: dedupeSkips(skipped), unfinished };
}

interface Done {
  spec: RequestSpec;
  r: PathResult;
}

/**
 * How long a stage's answer is waited for before the stages after it stop waiting their turn on
 * the connection: a healthy API answers well within it, a hanging one costs this plus one
 * timeout, not a timeout per stage.
 */
const hedgeMs = (ctx: ProbeContext) => ctx.timeoutMs / 4;

const preparedSpec = (
  target: PreparedTarget,
  req: { stage: string; path: string },
): RequestSpec => ({
  ...req,
  servername: target.servername,
  headers: target.requestHeaders,
  shownHeaders: target.shownHeaders,
});

/** A verified connection, with what its requests report. */
interface OpenConnection {
  conn: HttpConnection;
  before: Timings;
  tls: { protocol?: string; cipher?: string };
}

/** TCP then TLS: the connection's findings, and the connection, or why there is none. */
async function connect(
  target: PreparedTarget,
  ctx: ProbeContext,
  address: string,
  servername: string,
  dnsMs: number,
  onPending?: OnPending,
): Promise<{ connection: Finding[]; open?: OpenConnection; failed?: PathResult }> {
  const port = target.port;
  const waiting = { address, timeoutMs: ctx.timeoutMs };
  const tcp = await pending(
    onPending,
    { layer: "tcp", ...waiting },
    probeTcp(ctx, { address, port }),
  );
  if (tcp.observation.cancelled) {
    const failed: PathResult = {
      connection: [],
      unfinished: "tcp",
      notTried: ["tls", "http"],
      reason: INTERRUPTED,
    };
    return { connection: [], failed };
  }
  const tcpFinding = classifyTcp(tcp.observation, dnsMs);
  if (!tcp.socket) {
    const reason = `${tcpFinding.code} on ${address}`;
    const connection = [tcpFinding];
    return { connection, failed: { connection, notTried: ["tls", "http"], reason } };
  }
  const tls = await pending(
    onPending,
    { layer: "tls", ...waiting },
    probeTls(ctx, { socket: tcp.socket, servername, secureContext: target.secureContext }),
  );
  if (tls.observation.cancelled) {
    const connection = [tcpFinding];
    const failed: PathResult = {
      connection,
      unfinished: "tls",
      notTried: ["http"],
      reason: INTERRUPTED,
    };
    return { connection, failed };
  }
  const tlsFinding = classifyTls(tls.observation, address, tcpFinding.timings, target.insecure);
  const connection = [tcpFinding, tlsFinding];
  if (!tls.socket || tlsFinding.status === "fail") {
    tls.socket?.destroy();
    const reason = `${tlsFinding.code} on ${address}`;
    return { connection, failed: { connection, notTried: ["http"], reason } };
  }
  const conn = await HttpConnection.open(ctx, { socket: tls.socket, host: servername, port });
  return { connection, open: { conn, before: tlsFinding.timings, tls: tls.observation } };
}

/** One check on a connection of its own: TCP, TLS, the stage's request, then the connection closed. */
async function probePath(
  target: PreparedTarget,
  ctx: ProbeContext,
  opts: RunOptions,
  address: string,
  req: RequestSpec,
  dnsMs: number,
): Promise<PathResult> {
  const { connection, open, failed } = await connect(
    target,
    ctx,
    address,
    req.servername,
    dnsMs,
    opts.onPending,
  );
  if (!open) return failed as PathResult;
  try {
    const r = await sendOn(target, ctx, opts, address, open, req);
    return { ...r, connection };
  } finally {
    await open.conn.close();
  }
}

/**
 * The stage's request on an open connection; `open` when the connection can carry another.
 * `lost`: the connection was gone before an answer (closed or reset with no status) when it had
 * already carried one, where a client retries on a new connection rather than blame the stage.
 */
async function sendOn(
  target: PreparedTarget,
  ctx: ProbeContext,
  opts: RunOptions,
  address: string,
  open: OpenConnection,
  req: RequestSpec,
): Promise<PathResult & { open?: OpenConnection; lost?: boolean }> {
  const sent = sentRequest(target, open.tls);
  const http = await pending(
    opts.onPending,
    { layer: "http", address, stage: req.stage, timeoutMs: ctx.timeoutMs },
    open.conn.request(ctx, {
      path: req.path,
      headers: req.headers,
      maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_BODY_CAP,
    }),
  );
  if (http.cancelled) return { connection: [], unfinished: "http", notTried: [], reason: "" };
  const httpFinding = classifyHttp(
    withoutSecrets(http, target.secrets),
    { address, stage: req.stage, path: req.path },
    open.before,
    target.expectStatus,
    sent,
    { mode: target.mode },
  );
  httpFinding.evidence.headers = req.shownHeaders;
  return {
    connection: [],
    http: httpFinding,
    notTried: [],
    reason: "",
    open: open.conn.reusableAfter(http) ? open : undefined,
    lost: http.connectionLost !== undefined && open.conn.requests > 1,
  };
}

/** What a support case asks about the request besides its ids: when, to which name, over what. */
function sentRequest(
  target: PreparedTarget,
  tls: { protocol?: string; cipher?: string },
): SentRequest {
  const port = target.port;
  return {
    requestedAt: new Date().toISOString(),
    sni: target.servername,
    // undici sends the origin's host, with the port when it is not 443.
    host: port === 443 ? target.servername : `${target.servername}:${port}`,
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
