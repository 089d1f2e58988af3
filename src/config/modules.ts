// /probe modules (blackbox_exporter's multi-target pattern): a module is a target without its
// endpoint; /probe?module=NAME&target=HOST supplies the endpoint. Anyone who can reach the
// daemon's port can call /probe, so HOST is held to names that cannot point this host anywhere
// else: an execute-api interface endpoint name, or a custom domain the module lists.
import type tls from "node:tls";
import { prepareTarget, type PreparedTarget } from "../diagnose/plan.js";
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
  config: Omit<ModuleConfig, "domains">;
  domains: Set<string>;
  /** The CA file read once, at load, as for the config's targets. */
  secureContext?: tls.SecureContext;
}

/** Validates every module now (a bad one fails the load, or the reload), not at the first /probe. */
export function probeModules(
  configs: Record<string, ModuleConfig> | undefined,
  build: BuildTarget,
): ProbeModules {
  const modules = new Map<string, Module>();
  for (const [name, { domains = [], ...config }] of Object.entries(configs ?? {})) {
    if (!MODULE_NAME.test(name))
      throw new UsageError(
        `modules: ${echo(name)} is not a module name (1-64 letters, digits, '.', '_' or '-')`,
      );
    try {
      const sample = prepareTarget(build({ ...config, name, endpoint: SAMPLE_ENDPOINT }));
      const allowed = new Set(domains.map((d) => checkHostname(d, "domain")));
      modules.set(name, { config, domains: allowed, secureContext: sample.secureContext });
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
      const endpoint = probeHost(host);
      const built = parseEndpoint(endpoint).vpceId
        ? build({ ...module.config, name, endpoint })
        : domainTarget(module, name, endpoint);
      const prepared = prepareTarget({ ...built, caFile: undefined });
      // The probed name labels the answer's series: bounded by the checks above (a DNS name).
      return {
        ...prepared,
        caFile: built.caFile,
        secureContext: module.secureContext,
        name: endpoint,
      };
    },
  };
}

function probeHost(host: string): string {
  if (host === "") throw new UsageError("target: missing (give ?target=<endpoint DNS name>)");
  if (host.length > 253) throw new UsageError("target: longer than a DNS name can be");
  return checkHostname(host, "target");
}

function domainTarget(module: Module, name: string, domain: string): never {
  if (!module.domains.has(domain))
    throw new UsageError(
      `target: ${echo(domain)} is neither an execute-api VPC endpoint name (vpce-...execute-api.REGION.vpce.amazonaws.com) nor a domain module ${name} allows`,
    );
  // Allowed, but a custom domain is diagnosed in domain mode (a `domain` target), which this
  // build's targets do not have yet: say so rather than diagnose the wrong name.
  throw new UsageError(`target: ${domain} is a custom domain, and this build has no domain mode`);
}

function echo(value: string): string {
  const shown = value.length > ECHO_MAX ? `${value.slice(0, ECHO_MAX)}...` : value;
  return JSON.stringify(shown);
}
