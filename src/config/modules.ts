// /probe modules (blackbox_exporter's multi-target pattern): a module is a target without its
// endpoint; /probe?module=NAME&target=HOST supplies it. Anyone who can reach the daemon's port
// can call /probe, so HOST is held to names that cannot point this host anywhere else: an
// execute-api interface endpoint name, or a custom domain the module lists.
import type tls from "node:tls";
import { prepareTarget, type PreparedTarget } from "./prepare.js";
import { UsageError, type Target } from "../types.js";
import { checkHostname, parseEndpoint } from "./names.js";
import type { ModuleConfig, TargetConfig } from "./schema.js";

export interface ProbeModules {
  names(): string[];
  /** The target to diagnose for /probe; a UsageError (one line) says why there is none. */
  target(module: string, host: string): PreparedTarget;
}

/** Builds (and so validates) a target from a target config, as the config's own targets are. */
export type BuildTarget = (config: TargetConfig) => Target;

const MODULE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** Stands in for /probe's target when a module is checked at load (host and alias modes need a region). */
const SAMPLE_ENDPOINT = "vpce-0123456789abcdef0-abcd1234.execute-api.us-east-1.vpce.amazonaws.com";
/** The longest module or target echoed back in an error line. */
const ECHO_MAX = 80;

interface Module {
  /** A module with an API id and stages probes any endpoint name; one with only domains, those. */
  endpoints?: { config: Omit<ModuleConfig, "domains">; secureContext?: tls.SecureContext };
  /** Its custom domains, each prepared at load like a configured target. */
  domains: Map<string, PreparedTarget>;
}

/** Validates and prepares every module now (a bad one fails the load or the reload). */
export function probeModules(
  configs: Record<string, ModuleConfig> | undefined,
  build: BuildTarget,
): ProbeModules {
  const modules = new Map<string, Module>();
  for (const [name, config] of Object.entries(configs ?? {})) {
    if (!MODULE_NAME.test(name))
      throw new UsageError(
        `modules: ${echo(name)} is not a module name (1-64 letters, digits, '.', '_' or '-')`,
      );
    try {
      modules.set(name, prepareModule(name, config, build));
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`modules.${name}: ${err.message}`);
      throw err;
    }
  }
  return {
    names: () => [...modules.keys()],
    target(name, host) {
      const module = modules.get(name);
      if (!module) throw new UsageError(`unknown module ${echo(name)}`);
      const wanted = probeHost(host);
      return parseEndpoint(wanted).vpceId
        ? endpointTarget(module, name, wanted, build)
        : domainTarget(module, name, wanted);
    },
  };
}

function prepareModule(name: string, moduleConfig: ModuleConfig, build: BuildTarget): Module {
  const { domains = [], ...config } = moduleConfig;
  const prepared = new Map<string, PreparedTarget>();
  for (const d of domains) {
    const domain = checkHostname(d, "domain");
    prepared.set(domain, { ...prepareTarget(build({ ...config, name, domain })), name: domain });
  }
  const forEndpoints =
    config.mode !== "domain" &&
    (config.apiId !== undefined || config.stages !== undefined || domains.length === 0);
  if (!forEndpoints && prepared.size === 0)
    throw new UsageError("mode domain: list the custom domains it may probe in domains");
  if (!forEndpoints) return { domains: prepared };
  const sample = prepareTarget(build({ ...config, name, endpoint: SAMPLE_ENDPOINT }));
  return { endpoints: { config, secureContext: sample.secureContext }, domains: prepared };
}

function endpointTarget(
  module: Module,
  name: string,
  endpoint: string,
  build: BuildTarget,
): PreparedTarget {
  if (!module.endpoints)
    throw new UsageError(
      `target: module ${name} has no apiId and stages: it probes only its domains (${[...module.domains.keys()].join(", ")})`,
    );
  const built = build({ ...module.endpoints.config, name, endpoint });
  // The module's CA was read once, at load: this request does not read it again.
  const prepared = prepareTarget({ ...built, caFile: undefined });
  const { secureContext } = module.endpoints;
  // The probed name labels the answer's series: bounded by the checks above (a DNS name).
  return { ...prepared, caFile: built.caFile, secureContext, name: endpoint };
}

function domainTarget(module: Module, name: string, domain: string): PreparedTarget {
  const target = module.domains.get(domain);
  if (!target)
    throw new UsageError(
      `target: ${echo(domain)} is neither an execute-api VPC endpoint name (vpce-...execute-api.REGION.vpce.amazonaws.com) nor a domain module ${name} allows`,
    );
  return target;
}

function probeHost(host: string): string {
  if (host === "") throw new UsageError("target: missing (give ?target=<endpoint DNS name>)");
  if (host.length > 253) throw new UsageError("target: longer than a DNS name can be");
  return checkHostname(host, "target");
}

function echo(value: string): string {
  const shown = value.length > ECHO_MAX ? `${value.slice(0, ECHO_MAX)}...` : value;
  return JSON.stringify(shown);
}
