// Standalone simulator for the namespace lab and the container test: starts it, prints one JSON
// line saying where everything is, and runs until SIGTERM or SIGINT.
//
//   node dist/simulator/main.js [--endpoint N] [--api-id X] [--address A ...] [--https-port P]
//     [--dns-host H] [--dns-port P] [--stage name=behaviour ...] [--fault-dns F]
//     [--fault ADDRESS=F ...] [--allow-non-loopback] [--access-mode BASIC|STRICT]
//     [--api ID[=STRICT[:421]] ...] [--domain NAME ...] [--unassociated-domain NAME ...]
//     [--deny-all-domain NAME ...] [--strict-refusal 403|421] [--disable-execute-api-endpoint]
//     [--tls-min-version TLSv1.2|TLSv1.3]
//
// A custom domain maps base path "" (the root) to the first stage and each stage's name to it.

import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { EXIT, UsageError } from "../types.js";
import {
  isAddressFault,
  isDnsFault,
  isStageBehaviour,
  type AddressFault,
  type StageBehaviour,
} from "./faults.js";
import {
  startSimulator,
  type CustomDomain,
  type Simulator,
  type SimulatorOptions,
} from "./index.js";

const OPTIONS = {
  endpoint: { type: "string" },
  "api-id": { type: "string" },
  address: { type: "string", multiple: true },
  "https-port": { type: "string" },
  "dns-host": { type: "string" },
  "dns-port": { type: "string" },
  stage: { type: "string", multiple: true },
  "fault-dns": { type: "string" },
  fault: { type: "string", multiple: true },
  "allow-non-loopback": { type: "boolean" },
  "access-mode": { type: "string" },
  api: { type: "string", multiple: true },
  domain: { type: "string", multiple: true },
  "unassociated-domain": { type: "string", multiple: true },
  "deny-all-domain": { type: "string", multiple: true },
  "strict-refusal": { type: "string" },
  "disable-execute-api-endpoint": { type: "boolean" },
  "tls-min-version": { type: "string" },
} as const;

function strictRefusal(flag: string, value: string | undefined): 403 | 421 | undefined {
  if (value === undefined) return undefined;
  if (value === "403" || value === "421") return Number(value) as 403 | 421;
  throw new UsageError(`--${flag}: 403 or 421, not ${value}`);
}

function tlsMinVersion(value: string | undefined): "TLSv1.2" | "TLSv1.3" | undefined {
  if (value === undefined || value === "TLSv1.2" || value === "TLSv1.3") return value;
  throw new UsageError(`--tls-min-version: TLSv1.2 or TLSv1.3, not ${value}`);
}

function accessMode(flag: string, value: string | undefined): "BASIC" | "STRICT" | undefined {
  if (value === undefined || value === "BASIC" || value === "STRICT") return value;
  throw new UsageError(`--${flag}: BASIC or STRICT, not ${value}`);
}

function extraApis(values: string[] | undefined): SimulatorOptions["apis"] {
  return values?.map((item) => {
    const [apiId = "", setting] = item.split("=");
    const [mode, refusal] = (setting ?? "").split(":");
    return {
      apiId,
      accessMode: accessMode("api", mode || undefined),
      strictRefusal: strictRefusal("api", refusal),
    };
  });
}

function customDomains(
  associated: string[] | undefined,
  unassociated: string[] | undefined,
  denyAll: string[] | undefined,
  stages: Record<string, StageBehaviour> | undefined,
): CustomDomain[] | undefined {
  if (!associated && !unassociated && !denyAll) return undefined;
  const names = Object.keys(stages ?? { prod: "ok", v2: "ok" });
  const basePaths: Record<string, string> = { "": names[0] ?? "prod" };
  for (const stage of names) basePaths[stage] = stage;
  return [
    ...(associated ?? []).map((name) => ({ name, associated: true, basePaths })),
    ...(unassociated ?? []).map((name) => ({ name, associated: false, basePaths })),
    ...(denyAll ?? []).map((name) => ({
      name,
      associated: true,
      basePaths,
      policy: "deny-all" as const,
    })),
  ];
}

function port(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new UsageError(`--${flag}: not a port number: ${value}`);
  }
  return n;
}

/** `name=value` pairs; the value is split at the last `=` so IPv6 keys need no quoting. */
function pairs<T extends string>(
  flag: string,
  values: string[] | undefined,
  valid: (v: string) => v is T,
): Record<string, T> | undefined {
  if (!values) return undefined;
  const out: Record<string, T> = {};
  for (const item of values) {
    const at = item.lastIndexOf("=");
    const key = item.slice(0, at);
    const value = item.slice(at + 1);
    if (at <= 0 || !valid(value)) throw new UsageError(`--${flag}: invalid: ${item}`);
    out[key] = value;
  }
  return out;
}

function dnsFault(value: string | undefined) {
  if (value === undefined) return undefined;
  if (!isDnsFault(value)) throw new UsageError(`--fault-dns: unknown fault: ${value}`);
  return value;
}

export function parseSimulatorArgs(argv: string[]): SimulatorOptions {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const stages = pairs<StageBehaviour>("stage", values.stage, isStageBehaviour);
  return {
    endpoint: values.endpoint,
    apiId: values["api-id"],
    accessMode: accessMode("access-mode", values["access-mode"]),
    apis: extraApis(values.api),
    strictRefusal: strictRefusal("strict-refusal", values["strict-refusal"]),
    defaultEndpointDisabled: values["disable-execute-api-endpoint"],
    tlsMinVersion: tlsMinVersion(values["tls-min-version"]),
    domains: customDomains(
      values.domain,
      values["unassociated-domain"],
      values["deny-all-domain"],
      stages,
    ),
    addresses: values.address,
    httpsPort: port("https-port", values["https-port"]),
    dnsHost: values["dns-host"],
    dnsPort: port("dns-port", values["dns-port"]),
    stages,
    faults: {
      dns: dnsFault(values["fault-dns"]),
      address: pairs<AddressFault>("fault", values.fault, isAddressFault),
    },
    allowNonLoopback: values["allow-non-loopback"] ?? false,
  };
}

/** The one line printed on stdout once every server listens: what a client needs to reach them. */
export type ReadyLine = { ready: true } & Pick<
  Simulator,
  | "endpoint"
  | "apiId"
  | "addresses"
  | "port"
  | "dns"
  | "caFile"
  | "region"
  | "vpceId"
  | "apiHost"
  | "aliasHost"
  | "domains"
>;

function readyLine(sim: Simulator): string {
  const { endpoint, apiId, addresses, port, dns, caFile } = sim;
  const { region, vpceId, apiHost, aliasHost, domains } = sim;
  const ready: ReadyLine = {
    ready: true,
    endpoint,
    apiId,
    addresses,
    port,
    dns,
    caFile,
    region,
    vpceId,
    apiHost,
    aliasHost,
    domains,
  };
  return JSON.stringify(ready);
}

function stopOnSignal(sim: Simulator): void {
  let stopping = false;
  const stop = () => {
    // A second signal while closing means "now": do not make the operator wait.
    if (stopping) process.exit(EXIT.error);
    stopping = true;
    void sim.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

function fail(error: unknown): void {
  const err = error as NodeJS.ErrnoException;
  // What the user can cause (bad flag, busy port) is one line; a bug keeps its stack.
  const userError = err instanceof UsageError || err?.code;
  process.stderr.write(`apigw-diag simulator: ${userError ? err.message : String(err?.stack)}\n`);
  process.exitCode = EXIT.error;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const sim = await startSimulator(parseSimulatorArgs(argv));
    stopOnSignal(sim);
    process.stdout.write(readyLine(sim) + "\n");
  } catch (error) {
    fail(error);
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  return script !== undefined && import.meta.url === pathToFileURL(realpathSync(script)).href;
}

if (isEntryPoint()) void main(process.argv.slice(2));
