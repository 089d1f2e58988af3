// Shared by the tests: a simulator target on loopback, never the system resolver.
import { resolveSettings, type Overrides } from "../src/config/load.js";
import type { Simulator } from "../src/simulator/index.js";
import { simulatorOverrides } from "../src/simulator/target.js";
import type { Target } from "../src/types.js";

export function simTarget(sim: Simulator, over: Overrides = {}): Target {
  const settings = resolveSettings(
    { ...simulatorOverrides(sim), timeout: "800ms", ...over },
    {},
    {},
  );
  const [target] = settings.targets;
  if (!target) throw new Error("no target");
  return target;
}
