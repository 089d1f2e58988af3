// Shared by the tests: a simulator target on loopback, never the system resolver.
import { resolveSettings, type Overrides } from "../src/config/load.js";
import type { Simulator } from "../src/simulator/index.js";
import { simulatorOverrides } from "../src/simulator/target.js";
import type { PreparedTarget } from "../src/config/prepare.js";

export function simTarget(sim: Simulator, over: Overrides = {}): PreparedTarget {
  const settings = resolveSettings(
    { ...simulatorOverrides(sim), timeout: "800ms", ...over },
    {},
    {},
  );
  const [target] = settings.targets;
  if (!target) throw new Error("no target");
  return target;
}
