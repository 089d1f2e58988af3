// Settings come from four places; the first that has a value wins:
// command-line flags > APIGW_DIAG_* environment > config file > defaults.
import {
  SECRET_HEADERS,
  UsageError,
  type AccessMode,
  type Family,
  type HeaderSpec,
  type Target,
} from "../types.js";
import { parseDuration } from "./duration.js";
import {
  checkApiId,
  checkCidr,
  checkHeader,
  checkHostname,
  checkListenHost,
  checkPath,
  checkPort,
  checkStage,
  checkTargetName,
  parseEndpoint,
  parseHeaderFlag,
  parseResolver,
} from "./names.js";
import { probeModules, type ProbeModules } from "./modules.js";
import type { FileConfig, TargetConfig } from "./schema.js";
import { checkBasePath, checkFamily, domainParts } from "./domain.js";
import { prepareTarget, type PreparedTarget } from "./prepare.js";
import { checkExpectPath } from "./expect-path.js";

export const DEFAULTS = {
  timeout: "5s",
  port: 443,
  mode: "header" as AccessMode,
  path: "/",
  concurrency: 32,
  interval: "60s",
  listen: "0.0.0.0:9464",
  jitter: 0.1,
  maxConcurrentTargets: 4,
  maxConcurrentProbes: 8,
  awsRefresh: "10m",
};

/** What flags or the environment may set; absent means "not given here". */
export interface Overrides {
  endpoint?: string;
  apiId?: string;
  stages?: string[];
  mode?: AccessMode;
  path?: string;
  headers?: string[];
  expectStatus?: number[];
  resolvers?: string[];
  port?: number;
  timeout?: string;
  caFile?: string;
  privateCidrs?: string[];
  compareOs?: boolean;
  insecure?: boolean;
  family?: Family;
  domain?: string;
  basePaths?: string[];
  compareModes?: boolean;
  concurrency?: number;
  expectSources?: string[];
  expectInterfaces?: string[];
  aws?: boolean;
  awsProfile?: string;
  interval?: string;
  listen?: string;
  webConfig?: string;
}

export interface Settings {
  /** Prepared once here: a run of them cannot fail with a usage error. */
  targets: PreparedTarget[];
  /** Connections open at once by the process: across every target (and, daemon, every run). */
  concurrency: number;
  daemon: {
    intervalMs: number;
    listen: { host: string; port: number };
    jitter: number;
    maxConcurrentTargets: number;
    /** /probe requests diagnosing at once; more get 503. */
    maxConcurrentProbes: number;
    /** The exporter-toolkit web config file (TLS, basic auth, headers), read by the daemon. */
    webConfig?: string;
  };
  /** What /probe?module=&target= may diagnose. */
  modules: ProbeModules;
}

/** Merges flags, environment and file, and validates every value that reaches the network. */
export function resolveSettings(flags: Overrides, env: Overrides, file: FileConfig): Settings {
  const pick = <K extends keyof Overrides>(key: K): Overrides[K] => flags[key] ?? env[key];
  const direct = pick("endpoint") ?? pick("apiId") ?? pick("stages") ?? pick("domain");
  const fileTargets = file.targets ?? [];
  const hasModules = Object.keys(file.modules ?? {}).length > 0;
  if (!direct && fileTargets.length === 0 && !hasModules) {
    throw new UsageError(
      "nothing to diagnose: give --endpoint, --api-id and --stage (or --domain), or --config with targets",
    );
  }
  const domain = pick("domain");
  const common: TargetConfig[] = direct
    ? [
        domain
          ? {
              name: "cli",
              domain,
              endpoint: pick("endpoint"),
              apiId: pick("apiId"),
              stages: pick("stages"),
            }
          : {
              name: "cli",
              endpoint: required(pick("endpoint"), "--endpoint"),
              apiId: required(pick("apiId"), "--api-id"),
              stages: required(pick("stages"), "--stage"),
            },
      ]
    : fileTargets;
  const targets = common.map((t, i) => buildTarget(t, i, pick, file));
  const names = new Set(targets.map((t) => t.name));
  if (names.size !== targets.length) throw new UsageError("targets: names must be unique");
  return {
    targets: targets.map(prepareTarget),
    concurrency: checkConcurrency(pick("concurrency") ?? file.concurrency ?? DEFAULTS.concurrency),
    daemon: {
      intervalMs: parseDuration(
        pick("interval") ?? file.daemon?.interval ?? DEFAULTS.interval,
        "interval",
      ),
      listen: parseListen(pick("listen") ?? file.daemon?.listen ?? DEFAULTS.listen),
      jitter: file.daemon?.jitter ?? DEFAULTS.jitter,
      maxConcurrentTargets: file.daemon?.maxConcurrentTargets ?? DEFAULTS.maxConcurrentTargets,
      maxConcurrentProbes: file.daemon?.maxConcurrentProbes ?? DEFAULTS.maxConcurrentProbes,
      webConfig: pick("webConfig") ?? file.daemon?.webConfig,
    },
    modules: probeModules(file.modules, (t) => buildTarget(t, 0, pick, file)),
  };
}

function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined)
    throw new UsageError(`${flag} is required with --endpoint, --api-id and --stage`);
  return value;
}

function buildTarget(
  t: TargetConfig,
  index: number,
  pick: <K extends keyof Overrides>(key: K) => Overrides[K],
  file: FileConfig,
): Target {
  const endpoint = t.endpoint === undefined ? undefined : checkHostname(t.endpoint, "endpoint");
  const domain = t.domain === undefined ? undefined : checkHostname(t.domain, "domain");
  const mode = domain ? "domain" : (pick("mode") ?? t.mode ?? DEFAULTS.mode);
  if (mode === "domain" && !domain) throw new UsageError("--mode domain needs --domain");
  const parts = endpoint ? parseEndpoint(endpoint) : {};
  if (mode !== "header" && mode !== "domain" && !parts.region) {
    throw new UsageError(
      `--mode ${mode} needs an endpoint name like vpce-<id>-<suffix>.execute-api.<region>.vpce.amazonaws.com`,
    );
  }
  const stages = (t.stages ?? []).map(checkStage);
  if (new Set(stages).size !== stages.length) throw new UsageError("stages: each stage once");
  const basePaths = (pick("basePaths") ?? t.basePaths ?? ["/"]).map(checkBasePath);
  if (new Set(basePaths).size !== basePaths.length)
    throw new UsageError("base paths: each base path once");
  domainParts({ domain, endpoint, apiId: t.apiId, stages });
  if (!domain && (!endpoint || t.apiId === undefined || stages.length === 0))
    throw new UsageError("endpoint, apiId and stages are required unless a domain is given");
  const resolvers = pick("resolvers") ?? t.resolvers ?? file.resolvers ?? [];
  const timeout = pick("timeout") ?? t.timeout ?? file.timeout ?? DEFAULTS.timeout;
  return {
    name: checkTargetName(t.name ?? `target${index + 1}`),
    endpoint,
    apiId: t.apiId === undefined ? undefined : checkApiId(t.apiId),
    stages,
    mode,
    domain,
    basePaths: domain ? basePaths : [],
    family: checkFamily(pick("family") ?? t.family ?? file.family ?? "auto"),
    compareModes: pick("compareModes") ?? t.compareModes ?? file.compareModes ?? true,
    path: checkPath(pick("path") ?? t.path ?? DEFAULTS.path),
    expectStatus: checkStatuses(pick("expectStatus") ?? t.expectStatus ?? []),
    headers: headerSpecs(pick("headers"), t.headers),
    port: checkPort(pick("port") ?? t.port ?? file.port ?? DEFAULTS.port),
    resolvers: resolvers.map(parseResolver),
    timeoutMs: parseDuration(timeout, "timeout"),
    caFile: pick("caFile") ?? t.caFile ?? file.caFile,
    privateCidrs: (pick("privateCidrs") ?? t.privateCidrs ?? file.privateCidrs ?? []).map(
      checkCidr,
    ),
    compareOs: pick("compareOs") ?? file.compareOs ?? true,
    insecure: pick("insecure") ?? file.insecure ?? false,
    expectPath: checkExpectPath(
      pick("expectSources") ?? file.expectPath?.sources,
      pick("expectInterfaces") ?? file.expectPath?.interfaces,
    ),
    ...awsSettings(pick, file),
  };
}

/** The aws layer: --aws, or a profile given as a flag or variable, or `aws.enabled`. */
function awsSettings(
  pick: <K extends keyof Overrides>(key: K) => Overrides[K],
  file: FileConfig,
): Pick<Target, "aws"> {
  const profile = pick("awsProfile") ?? file.aws?.profile;
  const enabled = pick("aws") ?? (pick("awsProfile") !== undefined || (file.aws?.enabled ?? false));
  if (!enabled) return {};
  if (profile !== undefined && !/^[\x21-\x7e]{1,128}$/.test(profile))
    throw new UsageError(`aws profile: ${JSON.stringify(profile)} is not a profile name`);
  const refreshMs = parseDuration(file.aws?.refresh ?? DEFAULTS.awsRefresh, "aws.refresh");
  return { aws: { ...(profile ? { profile } : {}), refreshMs } };
}

const SECRET = new Set(SECRET_HEADERS);

function headerSpecs(
  flagHeaders: string[] | undefined,
  fileHeaders: TargetConfig["headers"],
): HeaderSpec[] {
  const specs = new Map<string, HeaderSpec>();
  for (const [name, v] of Object.entries(fileHeaders ?? {})) {
    const value = typeof v === "string" ? v : v.value;
    const h = checkHeader(name, value);
    const secret = (typeof v !== "string" && v.secret) || SECRET.has(h.name);
    specs.set(h.name, { ...h, secret });
  }
  for (const flag of flagHeaders ?? []) {
    const h = parseHeaderFlag(flag);
    specs.set(h.name, { ...h, secret: SECRET.has(h.name) });
  }
  return [...specs.values()];
}

// Checked here as well as in the flag parser: the environment and the file bypass yargs.
function checkConcurrency(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new UsageError(`concurrency: ${n} is not a whole number from 1 to 1024`);
  return n;
}

function checkStatuses(statuses: number[]): number[] {
  const bad = statuses.find((s) => !Number.isInteger(s) || s < 100 || s > 599);
  if (bad !== undefined)
    throw new UsageError(`expect status: ${bad} is not an HTTP status (100-599)`);
  return statuses;
}

/** `host:port`, `[v6]:port` or `:port`; port 0 asks for any free port (the daemon logs which). */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!match) throw new UsageError(`listen: ${JSON.stringify(listen)} is not host:port`);
  const port = Number(match[3]);
  return {
    host: checkListenHost(match[1] ?? (match[2] || "0.0.0.0")),
    port: port === 0 ? 0 : checkPort(port, "listen port"),
  };
}
