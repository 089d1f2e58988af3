// Turns parsed flags (only those given) plus the environment and the config file into Settings.
import { UsageError } from "../types.js";
import { envOverrides } from "./env.js";
import { resolveSettings, type Overrides, type Settings } from "./load.js";
import type { FileConfig } from "./schema.js";

export interface ParsedArgs {
  endpoint?: string;
  apiId?: string;
  stage?: string[];
  resolver?: string[];
  port?: number;
  timeout?: string;
  caFile?: string;
  mode?: "header" | "host" | "alias" | "domain";
  family?: "auto" | "4" | "6";
  domain?: string;
  basePath?: string[];
  compareModes?: boolean;
  path?: string;
  header?: string[];
  expectStatus?: number[];
  privateCidr?: string[];
  compareOs?: boolean;
  insecure?: boolean;
  concurrency?: number;
  expectSource?: string[];
  expectInterface?: string[];
  aws?: boolean;
  awsProfile?: string;
  config?: string;
  format?: "text" | "json";
  interval?: string;
  listen?: string;
  webConfig?: string;
}

export function flagOverrides(a: ParsedArgs): Overrides {
  if (a.port !== undefined && Number.isNaN(a.port)) throw new UsageError("--port: not a number");
  if (a.expectStatus?.some((s) => !Number.isInteger(s) || s < 100 || s > 599))
    throw new UsageError("--expect-status: HTTP status codes (100-599)");
  if (
    a.concurrency !== undefined &&
    (!Number.isInteger(a.concurrency) || a.concurrency < 1 || a.concurrency > 1024)
  ) {
    throw new UsageError("--concurrency: a whole number from 1 to 1024");
  }
  return {
    endpoint: a.endpoint,
    apiId: a.apiId,
    stages: a.stage,
    resolvers: a.resolver,
    port: a.port,
    timeout: a.timeout,
    caFile: a.caFile,
    mode: a.mode,
    path: a.path,
    headers: a.header,
    expectStatus: a.expectStatus,
    privateCidrs: a.privateCidr,
    compareOs: a.compareOs,
    insecure: a.insecure,
    family: a.family,
    domain: a.domain,
    basePaths: a.basePath,
    compareModes: a.compareModes,
    concurrency: a.concurrency,
    expectSources: a.expectSource,
    expectInterfaces: a.expectInterface,
    aws: a.aws,
    awsProfile: a.awsProfile,
    interval: a.interval,
    listen: a.listen,
    webConfig: a.webConfig,
  };
}

export interface Loaded {
  settings: Settings;
  format: "text" | "json";
  file: FileConfig;
  configPath?: string;
}

/**
 * Returns a loader that reads flags, environment and config file anew each call (the daemon
 * calls it again on SIGHUP). The file parser (yaml, zod) is loaded only when a file is given.
 */
export async function settingsLoader(
  args: ParsedArgs,
  env: NodeJS.ProcessEnv,
): Promise<(isTty: boolean) => Loaded> {
  const fromEnv = envOverrides(env);
  const configPath = args.config ?? fromEnv.config;
  const readConfigFile = configPath ? (await import("./file.js")).readConfigFile : undefined;
  return (isTty) => {
    const file = configPath && readConfigFile ? readConfigFile(configPath) : {};
    const formatRaw = args.format ?? fromEnv.format ?? (isTty ? "text" : "json");
    if (formatRaw !== "text" && formatRaw !== "json")
      throw new UsageError(`format: text or json, not ${JSON.stringify(formatRaw)}`);
    return {
      settings: resolveSettings(flagOverrides(args), fromEnv, file),
      format: formatRaw,
      file,
      configPath,
    };
  };
}
