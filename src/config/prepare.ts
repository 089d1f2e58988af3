// A target prepared once, when the config is loaded (at start and on reload): the CA read into a
// secure context, the resolvers, the names, every request and its headers. A run takes prepared
// targets only, so nothing a user wrote can make a run fail halfway with a usage error.
import { readFileSync } from "node:fs";
import { getServers } from "node:dns";
import tls from "node:tls";
import { awsDomain, parseEndpoint, parseResolver } from "./names.js";
import { boundedCache } from "../bounded-cache.js";
import { REDACTED, UsageError, type Resolver, type Target } from "../types.js";
import { version } from "../version.js";
import { privateRanges, type AddressRange } from "./ranges.js";

export interface PreparedTarget extends Target {
  /** The name resolved and connected to (endpoint, private API name, or Route 53 alias). */
  resolveName: string;
  /** TLS SNI and Host header: the name the request is for. */
  servername: string;
  /** The resolvers asked: the configured ones, or the system's as they were at preparation. */
  resolvers: Resolver[];
  ranges: AddressRange[];
  /** System roots plus --ca-file, built once per CA content and shared by every run. */
  secureContext?: tls.SecureContext;
  /** One per stage (mode `domain`: per base path, labelled `stage` too: "/" for the root). */
  requests: { stage: string; path: string }[];
  /** Every header sent, secret values included. */
  requestHeaders: Record<string, string>;
  /** Headers for a request in another access mode: the same, without x-apigw-api-id. */
  commonHeaders: Record<string, string>;
  /** The API's own names, when the endpoint name says the region (for host and alias mode). */
  apiNames?: { host: string; alias: string };
  /** The same headers as printed anywhere: secret values replaced. */
  shownHeaders: Record<string, string>;
  /** Secret header values (and their credential part): never printed, even if echoed back. */
  secrets: string[];
}

/** Throws UsageError for anything the user must fix (unreadable CA, no nameserver, no region). */
export function prepareTarget(target: Target): PreparedTarget {
  const name = requestName(target);
  const common: Record<string, string> = {
    "user-agent": `apigw-diag/${version()}`,
    accept: "application/json",
  };
  const headers = { ...common };
  if (target.mode === "header" && target.apiId) headers["x-apigw-api-id"] = target.apiId;
  const shownHeaders = { ...headers };
  for (const h of target.headers) {
    headers[h.name] = h.value;
    common[h.name] = h.value;
    shownHeaders[h.name] = h.secret ? REDACTED : h.value;
  }
  return {
    ...target,
    resolveName: name,
    servername: name,
    resolvers: target.resolvers.length ? target.resolvers : systemResolvers(),
    ranges: privateRanges(target.privateCidrs),
    secureContext: target.caFile ? trustWith(loadCa(target.caFile)) : undefined,
    requests: planRequests(target),
    requestHeaders: headers,
    commonHeaders: common,
    apiNames: apiNames(target),
    shownHeaders,
    secrets: secretValues(target),
  };
}

function secretValues(target: Target): string[] {
  const values = target.headers
    .filter((h) => h.secret)
    // `Bearer <token>`: a server may echo the token alone.
    .flatMap((h) => [h.value, h.value.replace(/^\S+\s+/, "")])
    .filter((v) => v.length > 0);
  // Longest first, so a value is replaced whole before any part of it.
  return [...new Set(values)].sort((a, b) => b.length - a.length);
}

function planRequests(target: Target): PreparedTarget["requests"] {
  if (target.mode === "domain")
    // GET /<base path><path>: the base path replaces the stage (the root maps to "/").
    return target.basePaths.map((base) => ({
      stage: base || "/",
      path: `${base ? `/${base}` : ""}${target.path}`,
    }));
  return target.stages.map((stage) => ({
    stage,
    path: `/${encodeURIComponent(stage)}${target.path}`,
  }));
}

/** `{apiId}.execute-api.{region}.amazonaws.com` and the Route 53 alias `{apiId}-{vpceId}...`. */
export function apiNames(target: Target): PreparedTarget["apiNames"] {
  if (!target.endpoint || !target.apiId) return undefined;
  const { region, vpceId } = parseEndpoint(target.endpoint);
  if (!region || !vpceId) return undefined;
  return {
    host: `${target.apiId}.execute-api.${region}.${awsDomain(region)}`,
    alias: `${target.apiId}-${vpceId}.execute-api.${region}.${awsDomain(region)}`,
  };
}

function requestName(target: Target): string {
  if (target.mode === "domain") {
    if (!target.domain) throw new UsageError("mode domain needs --domain");
    return target.domain;
  }
  if (!target.endpoint) throw new UsageError(`--mode ${target.mode} needs --endpoint`);
  if (target.mode === "header") return target.endpoint;
  const names = apiNames(target);
  if (!names)
    throw new UsageError(`--mode ${target.mode}: cannot read the region from ${target.endpoint}`);
  return target.mode === "host" ? names.host : names.alias;
}

/**
 * The system's nameservers as Node's resolver reads them on every platform: /etc/resolv.conf on
 * Linux and macOS, the adapters' settings on Windows. Nothing of ours reads those files.
 */
export function systemResolvers(servers: string[] = getServers()): Resolver[] {
  if (servers.length === 0) throw new UsageError("no system nameserver found: give --resolver");
  return servers.map(parseResolver);
}

interface NativeContext {
  addCACert?: (pem: string) => void;
}

/**
 * System roots plus the extra CA: a private CA in front of the endpoint, or a test CA. Adding the
 * PEM to a context that holds Node's root store copies the roots Node parsed once per process
 * (the way NODE_EXTRA_CA_CERTS works); `ca: [...tls.rootCertificates, pem]` instead re-parses
 * some 140 PEM roots on every run, 30 to 130 ms of CPU per diagnosis.
 */
function trustWith(pem: string): tls.SecureContext {
  // One context per CA content, reused by every run of every target (the daemon plans each target
  // on every interval); a changed file has other content and gets a new context.
  return contexts(pem, () => newContext(pem));
}

/** Bounded for a file rewritten again and again. */
const contexts = boundedCache<string, tls.SecureContext>(16);

function newContext(pem: string): tls.SecureContext {
  const context = tls.createSecureContext();
  const native = context.context as NativeContext;
  if (typeof native.addCACert !== "function")
    return tls.createSecureContext({ ca: [...tls.rootCertificates, pem] });
  native.addCACert(pem);
  return context;
}

function loadCa(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(
      `--ca-file ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----"))
    throw new UsageError(`--ca-file ${file}: no PEM certificate in it`);
  return pem;
}
