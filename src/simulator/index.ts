// A private API behind an interface VPC endpoint, on loopback: a DNS server for its names and an
// HTTPS server per endpoint address that answers like API Gateway, with switchable faults.
// `demo`, the tests and the namespace lab all start it through `startSimulator`.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { UsageError } from "../types.js";
import {
  startApigwServer,
  type ApigwServer,
  type ApiIdentity,
  type CustomDomain,
  type StrictRefusal,
} from "./apigw-server.js";
import { simulatorCerts } from "./certs.js";
import { startDnsServer, type DnsServer } from "./dns-server.js";
import { FaultState, validateStages, type Faults, type StageBehaviour } from "./faults.js";
import { explainListenError, loopbackAddresses } from "./loopback.js";

export type { AddressFault, DnsFault, Faults, StageBehaviour } from "./faults.js";
export type { CustomDomain, StrictRefusal } from "./apigw-server.js";
export { ADDRESS_FAULTS, DNS_FAULTS, STAGE_BEHAVIOURS } from "./faults.js";
export { PUBLIC_ADDRESSES } from "./dns-server.js";

export interface SimulatorOptions {
  /** Default "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com". */
  endpoint?: string;
  /** Default "a1b2c3d4e5". */
  apiId?: string;
  /**
   * Endpoint addresses, one per AZ; default ["127.0.0.1", "127.0.0.2"], or ["127.0.0.1", "::1"]
   * where loopback holds 127.0.0.1 alone (macOS), or ["127.0.0.1"] (src/simulator/loopback.ts).
   */
  addresses?: string[];
  /** Default 0: one free port, the same on every address. */
  httpsPort?: number;
  /** Default "127.0.0.1". */
  dnsHost?: string;
  /** Default 0: a free port; UDP and TCP on the same port. */
  dnsPort?: number;
  /** Default { prod: "ok", v2: "ok" }. */
  stages?: Record<string, StageBehaviour>;
  faults?: Faults;
  /** Default false: refuse to bind outside 127.0.0.0/8 and ::1 (the namespace lab sets true). */
  allowNonLoopback?: boolean;
  /** The API's endpoint access mode; default BASIC. STRICT: see ApiIdentity.strict. */
  accessMode?: "BASIC" | "STRICT";
  /** The status a STRICT refusal is answered with: 403 (default) or 421 Misdirected Request. */
  strictRefusal?: StrictRefusal;
  /** More APIs behind the same endpoint, with the same stages (e.g. a STRICT one beside a BASIC one). */
  apis?: { apiId: string; accessMode?: "BASIC" | "STRICT"; strictRefusal?: StrictRefusal }[];
  /** disableExecuteApiEndpoint: every name but a custom domain's answers 403 Forbidden. */
  defaultEndpointDisabled?: boolean;
  /** The lowest TLS version the endpoint accepts; TLSv1.3: a SecurityPolicy_TLS13_1_3_* policy. */
  tlsMinVersion?: "TLSv1.2" | "TLSv1.3";
  /** Private custom domain names served through this endpoint. */
  domains?: CustomDomain[];
  /**
   * Name -> addresses the simulator's DNS answers instead of the endpoint's: a custom domain's
   * private hosted zone alias pointing elsewhere.
   */
  dnsOverrides?: Record<string, string[]>;
}

export interface Simulator {
  endpoint: string;
  apiId: string;
  region: string;
  vpceId: string;
  addresses: string[];
  /** The HTTPS port, the same on every address. */
  port: number;
  dns: { host: string; port: number };
  /** The throwaway CA that signed the server certificate. */
  caPem: string;
  /** caPem in a private temp file, removed by close(). */
  caFile: string;
  /** `${apiId}.execute-api.${region}.amazonaws.com`: the private DNS name ("host" mode). */
  apiHost: string;
  /** `${apiId}-${vpceId}.execute-api.${region}.amazonaws.com`: the Route 53 alias ("alias" mode). */
  aliasHost: string;
  /** The custom domain names served (mode "domain"). */
  domains: string[];
  /** Replaces every fault in force (what `f` omits is cleared), from the next query/connection on. */
  setFaults(f: Faults): void;
  setStages(s: Record<string, StageBehaviour>): void;
  /** Lets tests assert what was, and was not, contacted. */
  /** `zonalDnsQueries`: of `dnsQueries`, those for the endpoint's zonal names (the path layer's AZ). */
  stats(): Counts;
  /** Closes every server and every open socket; idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_ENDPOINT =
  "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com";
export const DEFAULT_API_ID = "a1b2c3d4e5";

const ENDPOINT_NAME =
  /^(vpce-[0-9a-f]+)-[0-9a-z]+\.execute-api\.([a-z0-9-]+)\.vpce\.amazonaws\.com$/;

/** Region and endpoint id, read from `vpce-<hex>-<suffix>.execute-api.<region>.vpce.amazonaws.com`. */
export function parseEndpoint(endpoint: string): { vpceId: string; region: string } {
  const match = ENDPOINT_NAME.exec(endpoint.toLowerCase());
  if (!match?.[1] || !match[2]) {
    throw new UsageError(`not an execute-api interface endpoint name: ${endpoint}`);
  }
  return { vpceId: match[1], region: match[2] };
}

function isLoopback(address: string): boolean {
  if (net.isIPv4(address)) return address.startsWith("127.");
  return address === "::1";
}

function checkAddresses(addresses: string[], dnsHost: string, allowNonLoopback: boolean): void {
  if (addresses.length === 0) throw new UsageError("the simulator needs at least one address");
  for (const address of [...addresses, dnsHost]) {
    if (!net.isIP(address)) throw new UsageError(`not an IP address: ${address}`);
    if (!allowNonLoopback && !isLoopback(address)) {
      throw new UsageError(`refusing to bind ${address}: not loopback (see allowNonLoopback)`);
    }
  }
}

function identity(
  endpoint: string,
  apiId: string,
  accessMode: "BASIC" | "STRICT" = "BASIC",
  strictRefusal: StrictRefusal = 403,
): ApiIdentity & { vpceId: string } {
  const { vpceId, region } = parseEndpoint(endpoint);
  const apiHost = `${apiId}.execute-api.${region}.amazonaws.com`;
  const aliasHost = `${apiId}-${vpceId}.execute-api.${region}.amazonaws.com`;
  const strict = accessMode === "STRICT";
  return { endpoint, apiId, region, vpceId, apiHost, aliasHost, strict, strictRefusal };
}

async function writeCaFile(caPem: string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "apigw-sim-"));
  const file = path.join(dir, "ca.pem");
  await writeFile(file, caPem, { mode: 0o600 });
  return { dir, file };
}

interface Parts {
  dns?: DnsServer;
  https?: ApigwServer;
  caDir?: string;
}

async function closeParts(parts: Parts): Promise<void> {
  await Promise.all([parts.dns?.close(), parts.https?.close()]);
  if (parts.caDir) await rm(parts.caDir, { recursive: true, force: true });
}

/** What the servers share: the API, the state tests switch, and the counters they read. */
interface World {
  api: ApiIdentity & { vpceId: string };
  apis: ApiIdentity[];
  domains: CustomDomain[];
  addresses: string[];
  dnsHost: string;
  faults: FaultState;
  stages: Record<string, StageBehaviour>;
  counts: Counts;
}

interface Counts {
  dnsQueries: number;
  zonalDnsQueries: number;
  connections: number;
  requests: number;
}

/** `{vpce-id}-{suffix}-{az}.execute-api...`: the zonal name of the endpoint `vpce-id-suffix...`. */
function isZonal(name: string | undefined, endpoint: string): boolean {
  const first = endpoint.split(".")[0] ?? "";
  const label = name?.toLowerCase().split(".")[0] ?? "";
  return label.startsWith(`${first}-`) && label.length > first.length + 1;
}

function world(opts: SimulatorOptions): World {
  const endpoint = opts.endpoint ?? DEFAULT_ENDPOINT;
  const api = identity(endpoint, opts.apiId ?? DEFAULT_API_ID, opts.accessMode, opts.strictRefusal);
  const apis = (opts.apis ?? []).map((a) =>
    identity(endpoint, a.apiId, a.accessMode, a.strictRefusal),
  );
  const domains = (opts.domains ?? []).map((d) => ({ ...d, name: d.name.toLowerCase() }));
  const addresses = [...(opts.addresses ?? ["127.0.0.1", "127.0.0.2"])];
  const dnsHost = opts.dnsHost ?? "127.0.0.1";
  checkAddresses(addresses, dnsHost, opts.allowNonLoopback ?? false);
  const stages = { ...(opts.stages ?? { prod: "ok", v2: "ok" }) };
  validateStages(stages);
  const faults = new FaultState(opts.faults);
  const counts: Counts = { dnsQueries: 0, zonalDnsQueries: 0, connections: 0, requests: 0 };
  return { api, apis, domains, addresses, dnsHost, faults, stages, counts };
}

// Fills `parts` as it goes, so the caller can close whatever started if a later step fails.
async function startParts(w: World, opts: SimulatorOptions, parts: Parts) {
  const certs = simulatorCerts(
    w.api.endpoint,
    w.api.region,
    w.domains.map((d) => d.name),
  );
  const names = [w.api, ...w.apis].flatMap((a) => [a.apiHost, a.aliasHost]);
  const ca = await writeCaFile(certs.caPem);
  parts.caDir = ca.dir;
  const dns = (parts.dns = await startDnsServer({
    host: w.dnsHost,
    port: opts.dnsPort ?? 0,
    zone: {
      names: [w.api.endpoint, ...names, ...w.domains.map((d) => d.name)],
      addresses: w.addresses,
      overrides: opts.dnsOverrides,
      forwardedZone: `execute-api.${w.api.region}.amazonaws.com`,
    },
    faults: w.faults,
    onQuery: (name) => {
      w.counts.dnsQueries++;
      if (isZonal(name, w.api.endpoint)) w.counts.zonalDnsQueries++;
    },
  }));
  const https = (parts.https = await startApigwServer({
    addresses: w.addresses,
    port: opts.httpsPort ?? 0,
    api: w.api,
    served: {
      apis: w.apis,
      domains: w.domains,
      defaultEndpointDisabled: opts.defaultEndpointDisabled ?? false,
    },
    tlsMinVersion: opts.tlsMinVersion,
    certs,
    faults: w.faults,
    stages: () => w.stages,
    onConnection: () => w.counts.connections++,
    onRequest: () => w.counts.requests++,
  }));
  return { dns, https, caPem: certs.caPem, caFile: ca.file };
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const w = world({ ...opts, addresses: opts.addresses ?? (await loopbackAddresses()) });
  const parts: Parts = {};
  try {
    const { dns, https, caPem, caFile } = await startParts(w, opts, parts);
    let closing: Promise<void> | undefined;
    return {
      ...w.api,
      domains: w.domains.map((d) => d.name),
      addresses: [...w.addresses],
      port: https.port,
      dns: { host: w.dnsHost, port: dns.port },
      caPem,
      caFile,
      setFaults(f) {
        w.faults.set(f);
        https.syncListeners();
      },
      setStages(s) {
        validateStages(s);
        w.stages = { ...s };
      },
      stats: () => ({ ...w.counts }),
      close: () => (closing ??= closeParts(parts)),
    };
  } catch (error) {
    await closeParts(parts);
    throw explainListenError(error);
  }
}
