// Shared by the tests: a simulator target on loopback, never the system resolver.
import { resolveSettings, type Overrides } from "../src/config/load.js";
import type { Simulator } from "../src/simulator/index.js";
import { simulatorOverrides } from "../src/simulator/target.js";
import type { PreparedTarget } from "../src/config/prepare.js";
import { ipv6Connectivity, type Ipv6Connectivity } from "../src/probes/ipv6-connectivity.js";
import { canBind } from "../src/simulator/loopback.js";

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

/**
 * Run options for a diagnosis of `sim` in the process running the tests. Where loopback holds
 * 127.0.0.1 alone (macOS), the simulator's second Availability Zone is ::1: it is tried whatever
 * this host's IPv6 connectivity, as `demo` does, so a test of "the second AZ" still has one.
 */
export function simRun(sim: Pick<Simulator, "addresses">): { ipv6?: () => Ipv6Connectivity } {
  if (!sim.addresses.includes("::1")) return {};
  return { ipv6: () => ({ ok: true, reason: "test: ::1 stands in for the second AZ" }) };
}

/** The simulator's second address (its second Availability Zone): 127.0.0.2, or ::1 on macOS. */
export function second(sim: Simulator): string {
  const address = sim.addresses[1];
  if (!address) throw new Error(`the simulator has one address: ${sim.addresses.join(", ")}`);
  return address;
}

/**
 * Whether loopback holds 127.0.0.2 as well as 127.0.0.1 (Linux's 127.0.0.0/8; not macOS's lo0
 * without an alias). A test that needs two IPv4 loopback addresses skips without it.
 */
export const hasSecondLoopback = await canBind("127.0.0.2");

/**
 * Whether the built CLI (`--family auto`) tries the simulator's second address: always where it
 * is 127.0.0.2; where it is ::1 (macOS), only on a host with IPv6 connectivity. Known when the
 * tests are collected, for `it.skipIf`.
 */
export const cliTriesSecond = hasSecondLoopback || ipv6Connectivity().ok;
