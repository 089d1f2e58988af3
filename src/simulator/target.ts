import type { Overrides } from "../config/load.js";
import type { Simulator } from "./index.js";

/** The settings that point a diagnosis at a running simulator, as the demo and the tests do. */
export function simulatorOverrides(sim: Simulator): Overrides {
  return {
    endpoint: sim.endpoint,
    apiId: sim.apiId,
    stages: ["prod", "v2"],
    resolvers: [`${sim.dns.host}:${sim.dns.port}`],
    port: sim.port,
    caFile: sim.caFile,
    // Loopback stands in for the VPC's private range; the OS resolver does not know the
    // simulated name (and must not be asked), so it is not compared.
    privateCidrs: ["127.0.0.0/8", "::1/128"],
    compareOs: false,
  };
}
