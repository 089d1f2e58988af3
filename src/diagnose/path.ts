// The path layer (DESIGN: layer 2): for every resolved address, what this host's kernel does
// with it (probes/path.ts), the Availability Zone its zonal DNS name says, and the judgement
// against `expectPath`. Also the proxy variables that would send other applications elsewhere.
import ipaddr from "ipaddr.js";
import type { PreparedTarget } from "../config/prepare.js";
import type { ProbeContext } from "../probes/context.js";
import { probeDns, type RecordType } from "../probes/dns.js";
import { probePath, type PathObservation } from "../probes/path.js";
import {
  REDACTED,
  type AddressInfo,
  type ExpectPath,
  type Finding,
  type PathFinding,
  type Resolver,
} from "../types.js";
import { finding } from "./classify.js";
import { pathFactHint } from "../hints.js";
import type { ReuseCache } from "./reuse.js";

/** The region's AZ letters asked for: every commercial region's AZs fall within a..f. */
export const AZ_LETTERS = ["a", "b", "c", "d", "e", "f"] as const;

export interface ZonalName {
  az: string;
  name: string;
}

/**
 * `{vpce-id}-{suffix}-{az}.execute-api.{region}.vpce.amazonaws.com` for each AZ letter of the
 * endpoint's region; none for a name that is not a regional endpoint name (a zonal name, a domain).
 */
export function zonalNames(endpoint: string | undefined): ZonalName[] {
  const match =
    /^(vpce-[0-9a-f]+-[0-9a-z]+)\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.vpce\.(amazonaws\.com(?:\.cn)?)$/.exec(
      endpoint?.toLowerCase() ?? "",
    );
  if (!match) return [];
  const [, base, region, domain] = match;
  return AZ_LETTERS.map((letter) => ({
    az: `${region}${letter}`,
    name: `${base}-${region}${letter}.execute-api.${region}.vpce.${domain}`,
  }));
}

/**
 * Address -> AZ, from the zonal names asked in parallel on `resolver` (the one that answered),
 * each query bounded by the phase timeout. Names that do not exist are simply absent.
 */
export async function lookupAzs(
  ctx: ProbeContext,
  endpoint: string | undefined,
  resolver: Resolver | undefined,
  addresses: string[],
): Promise<Map<string, string>> {
  return (await askAzs(ctx, endpoint, resolver, addresses)).byAddress;
}

/** lookupAzs, and whether every zonal name was answered (an answer worth keeping). */
async function askAzs(
  ctx: ProbeContext,
  endpoint: string | undefined,
  resolver: Resolver | undefined,
  addresses: string[],
): Promise<{ byAddress: Map<string, string>; answered: boolean }> {
  const byAddress = new Map<string, string>();
  const names = zonalNames(endpoint);
  if (!resolver || names.length === 0 || addresses.length === 0)
    return { byAddress, answered: false };
  const types: RecordType[] = [];
  if (addresses.some((a) => !a.includes(":"))) types.push("A");
  if (addresses.some((a) => a.includes(":"))) types.push("AAAA");
  const answers = await Promise.all(
    names.flatMap(({ az, name }) =>
      types.map(async (type) => {
        const o = await probeDns(ctx, { name, type, resolver, maxCnames: 8, maxAddresses: 16 });
        return { az, addresses: o.addresses, error: o.error };
      }),
    ),
  );
  const wanted = new Set(addresses.map(normalize));
  for (const { az, addresses: found } of answers)
    for (const a of found) if (wanted.has(normalize(a))) byAddress.set(normalize(a), az);
  // NXDOMAIN is an answer (no such AZ); a timeout or a cancel says nothing.
  return { byAddress, answered: answers.every((a) => a.error === undefined) };
}

/**
 * The daemon's AZs (reuse.ts): an earlier run's, while the endpoint's address set is the same
 * and the answer young enough; else asked, and kept when every zonal name answered.
 */
async function reusedAzs(
  ctx: ProbeContext,
  endpoint: string | undefined,
  resolver: Resolver | undefined,
  addresses: string[],
  reuse: ReuseCache | undefined,
): Promise<Map<string, string>> {
  if (!reuse || !resolver) return lookupAzs(ctx, endpoint, resolver, addresses);
  const key = `${resolver.host}:${resolver.port}|${endpoint?.toLowerCase() ?? ""}`;
  const kept = reuse.azs.get(key, addresses);
  if (kept) return kept.value;
  const { byAddress, answered } = await askAzs(ctx, endpoint, resolver, addresses);
  if (answered) reuse.azs.set(key, addresses, byAddress);
  return byAddress;
}

const normalize = (a: string): string =>
  ipaddr.isValid(a) ? ipaddr.parse(a).toNormalizedString() : a;

/** One PATH_OK or PATH_UNEXPECTED for the address: unexpected when `expect` does not hold it. */
export function classifyPath(
  info: AddressInfo,
  o: PathObservation,
  expect?: ExpectPath,
): PathFinding {
  const unexpected = expect ? offPath(info, expect) : [];
  const where = describePath(info, o);
  const timings = { total: o.durationMs };
  const evidence = {
    path: info,
    ...(o.errno ? { errno: o.errno } : {}),
    ...(expect ? { expected: expect } : {}),
    ...(unexpected.length ? { unexpected } : {}),
  };
  if (unexpected.length === 0)
    return finding("PATH_OK", where, evidence, timings, { address: info.address });
  const wanted = [
    expect?.sources.length ? `source in ${expect.sources.join(", ")}` : "",
    expect?.interfaces.length ? `interface ${expect.interfaces.join(" or ")}` : "",
  ].filter(Boolean);
  return finding(
    "PATH_UNEXPECTED",
    `${where}; expected ${wanted.join(" and ")}`,
    evidence,
    timings,
    { address: info.address },
  );
}

function offPath(info: AddressInfo, expect: ExpectPath): ("source" | "interface")[] {
  const off: ("source" | "interface")[] = [];
  if (expect.sources.length > 0 && !inRanges(info.source, expect.sources)) off.push("source");
  if (expect.interfaces.length > 0 && !expect.interfaces.includes(info.interface ?? ""))
    off.push("interface");
  return off;
}

function inRanges(address: string | null, cidrs: string[]): boolean {
  if (!address || !ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  return cidrs.some((c) => {
    const [range, bits] = ipaddr.parseCIDR(c);
    return range.kind() === parsed.kind() && parsed.match(range, bits);
  });
}

function describePath(info: AddressInfo, o: PathObservation): string {
  if (!info.source)
    return `${info.address}: no source address from this host's kernel (${o.errno ?? (o.timedOut ? "timeout" : "unknown")}): no route`;
  const parts = [`from ${info.source}`];
  if (info.interface) parts.push(`dev ${info.interface}`);
  if (info.gateway) parts.push(`via ${info.gateway}`);
  if (info.mtu !== null) parts.push(`mtu ${info.mtu}`);
  if (info.az) parts.push(`az ${info.az}`);
  return `${info.address}: ${parts.join(" ")}`;
}

/**
 * PATH_PROXY_ENV when a proxy variable is set and NO_PROXY does not cover `name`: the variables
 * curl, the AWS SDKs and most HTTP clients read (a value's credentials are never shown).
 */
export function proxyFinding(name: string, env: NodeJS.ProcessEnv): PathFinding | null {
  const variable = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"].find((v) => env[v]);
  if (!variable) return null;
  const noProxy = env.NO_PROXY ?? env.no_proxy ?? "";
  if (noProxyCovers(noProxy, name)) return null;
  const proxy = redactProxy(env[variable] ?? "");
  return finding(
    "PATH_PROXY_ENV",
    `${variable}=${proxy} is set and NO_PROXY${noProxy ? `=${noProxy}` : " is empty"}: it does not cover ${name}`,
    { variable, proxy, noProxy, name },
    { total: 0 },
  );
}

/** curl's reading of NO_PROXY: `*`, or a name that is the host or a domain above it. */
export function noProxyCovers(noProxy: string, name: string): boolean {
  const host = name.toLowerCase().replace(/\.$/, "");
  return noProxy
    .split(/[\s,]+/)
    .map((e) =>
      e
        .trim()
        .toLowerCase()
        .replace(/:\d+$/, "")
        .replace(/^\*?\./, "")
        .replace(/\.$/, ""),
    )
    .filter(Boolean)
    .some((e) => e === "*" || host === e || host.endsWith(`.${e}`));
}

/** Whatever precedes the last `@` (after a scheme) is credentials: a URL or not, never shown. */
function redactProxy(value: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)?(?:.*@)?(.*)$/is.exec(value);
  return m && value.includes("@") ? `${m[1] ?? ""}${REDACTED}@${m[2] ?? ""}` : value;
}

/** TCP_TIMEOUT names the source the security group must allow; TLS_TIMEOUT the interface's MTU. */
export function withPathFacts(findings: Finding[], info: AddressInfo[]): Finding[] {
  const byAddress = new Map(info.map((i) => [i.address, i]));
  return findings.map((f) => {
    if (f.code !== "TCP_TIMEOUT" && f.code !== "TLS_TIMEOUT") return f;
    const fact = pathFactHint(f.code, f.address ? byAddress.get(f.address) : undefined);
    return fact ? { ...f, hint: f.hint ? `${f.hint} ${fact}` : fact } : f;
  });
}

export interface PathLayer {
  findings: PathFinding[];
  addressInfo: AddressInfo[];
}

const NEVER = new AbortController().signal;

/**
 * The whole layer for one target: every resolved address's path and AZ, all at once; only the
 * addresses tried (their family probed) are judged. `resolver` is the one whose answer gave the
 * addresses (the zonal names are asked there). `reuse`: the daemon's, where the AZs may come from.
 */
export async function pathLayer(
  target: PreparedTarget,
  ctx: ProbeContext,
  which: { resolved: string[]; tried: string[] },
  resolver: Resolver | undefined,
  env: NodeJS.ProcessEnv = process.env,
  reuse?: ReuseCache,
): Promise<PathLayer> {
  const addresses = which.resolved;
  const tried = new Set(which.tried);
  // Local facts, read in milliseconds: a cancel does not cut them (it would leave a report
  // without them for nothing saved); the zonal names are network queries and it does.
  const local = { signal: NEVER, timeoutMs: ctx.timeoutMs };
  const [observations, azs] = await Promise.all([
    Promise.all(addresses.map((address) => probePath(local, { address, port: target.port }))),
    reusedAzs(ctx, target.endpoint, resolver, addresses, reuse),
  ]);
  const findings: PathFinding[] = [];
  const addressInfo = observations.map((o): AddressInfo => {
    const info: AddressInfo = {
      address: o.address,
      family: o.family,
      az: azs.get(normalize(o.address)) ?? null,
      source: o.source,
      interface: o.interface,
      gateway: o.gateway,
      mtu: o.mtu,
    };
    if (tried.has(o.address)) findings.push(classifyPath(info, o, target.expectPath));
    return info;
  });
  const proxy = proxyFinding(target.servername, env);
  if (proxy) findings.push(proxy);
  return { findings, addressInfo };
}

/** The resolver (as configured) whose DNS finding gave addresses: where the zonal names are asked. */
export function answeringResolver(
  target: PreparedTarget,
  findings: Finding[],
): Resolver | undefined {
  for (const f of findings) {
    if (f.layer !== "dns" || !f.evidence.resolver || !f.evidence.addresses?.length) continue;
    const r = target.resolvers.find((x) => `${x.host}:${x.port}` === f.evidence.resolver);
    if (r) return r;
  }
  return target.resolvers[0];
}
