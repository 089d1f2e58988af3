// Shared by the tests: a simulator target on loopback, never the system resolver.
import { resolveSettings, type Overrides } from "../src/config/load.js";
import type { Simulator } from "../src/simulator/index.js";
import type { Target } from "../src/types.js";

export function simTarget(sim: Simulator, over: Overrides = {}): Target {
  const settings = resolveSettings(
    {
      endpoint: sim.endpoint,
      apiId: sim.apiId,
      stages: ["prod", "v2"],
      resolvers: [`${sim.dns.host}:${sim.dns.port}`],
      port: sim.port,
      caFile: sim.caFile,
      privateCidrs: ["127.0.0.0/8"],
      compareOs: false,
      timeout: "800ms",
      ...over,
    },
    {},
    {},
  );
  const [target] = settings.targets;
  if (!target) throw new Error("no target");
  return target;
}
