// Which checks a target needs: the name to resolve, the TLS name, the Host, every request.
import { readFileSync } from "node:fs";
import { getServers } from "node:dns";
import tls from "node:tls";
import { parseEndpoint, parseResolver } from "../config/names.js";
import { UsageError, type Resolver, type Target } from "../types.js";
import { version } from "../version.js";
import { privateRanges, type AddressRange } from "./addresses.js";

export interface Plan {
  target: Target;
  /** The name resolved and connected to (endpoint, private API name, or Route 53 alias). */
  resolveName: string;
  /** TLS SNI and Host header: the name the request is for. */
  servername: string;
  resolvers: Resolver[];
  ranges: AddressRange[];
  /** Trust store built once per run: system roots plus --ca-file. */
  secureContext?: tls.SecureContext;
  requests: { stage: string; path: string }[];
  headers: Record<string, string>;
  /** The same headers as printed anywhere: secret values replaced. */
  shownHeaders: Record<string, string>;
}

export const REDACTED = "[REDACTED]";

export function makePlan(target: Target): Plan {
  const name = requestName(target);
  const headers: Record<string, string> = {
    "user-agent": `apigw-diag/${version()}`,
    accept: "application/json",
  };
  if (target.mode === "header") headers["x-apigw-api-id"] = target.apiId;
  const shownHeaders = { ...headers };
  for (const h of target.headers) {
    headers[h.name] = h.value;
    shownHeaders[h.name] = h.secret ? REDACTED : h.value;
  }
  const suffix = target.path === "/" ? "/" : target.path;
  return {
    target,
    resolveName: name,
    servername: name,
    resolvers: target.resolvers.length ? target.resolvers : systemResolvers(),
    ranges: privateRanges(target.privateCidrs),
    secureContext: target.caFile
      ? tls.createSecureContext({ ca: loadCa(target.caFile) })
      : undefined,
    requests: target.stages.map((stage) => ({
      stage,
      path: `/${encodeURIComponent(stage)}${suffix}`,
    })),
    headers,
    shownHeaders,
  };
}

function requestName(target: Target): string {
  if (target.mode === "header") return target.endpoint;
  const { region, vpceId } = parseEndpoint(target.endpoint);
  if (!region)
    throw new UsageError(`--mode ${target.mode}: cannot read the region from ${target.endpoint}`);
  return target.mode === "host"
    ? `${target.apiId}.execute-api.${region}.amazonaws.com`
    : `${target.apiId}-${vpceId}.execute-api.${region}.amazonaws.com`;
}

function systemResolvers(): Resolver[] {
  const servers = getServers();
  if (servers.length === 0) throw new UsageError("no system nameserver found: give --resolver");
  return servers.map(parseResolver);
}

/** System roots plus the extra CA: a private CA in front of the endpoint, or a test CA. */
function loadCa(file: string): string[] {
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
  return [...tls.rootCertificates, pem];
}
