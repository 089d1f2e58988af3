// Which resolved addresses are probed, by family (DESIGN: --family). An address not tried is
// listed with its reason and does not count toward the verdict.
import type { Ipv6Connectivity } from "../probes/ipv6-connectivity.js";
import type { Family } from "../types.js";
import { isIpv6 } from "./addresses.js";

export interface FamilySplit {
  tried: string[];
  notTried: { address: string; reason: string }[];
}

export function splitByFamily(
  addresses: string[],
  family: Family,
  ipv6: () => Ipv6Connectivity,
): FamilySplit {
  const v6 = addresses.filter(isIpv6);
  const v4 = addresses.filter((a) => !isIpv6(a));
  if (family === "4") return { tried: v4, notTried: v6.map((a) => skip(a, "--family 4")) };
  if (family === "6") return { tried: v6, notTried: v4.map((a) => skip(a, "--family 6")) };
  if (v6.length === 0) return { tried: v4, notTried: [] };
  const connectivity = ipv6();
  if (connectivity.ok) return { tried: addresses, notTried: [] };
  const reason = `no IPv6 connectivity on this host: ${connectivity.reason} (--family auto)`;
  return { tried: v4, notTried: v6.map((a) => skip(a, reason)) };
}

const skip = (address: string, reason: string) => ({ address, reason });
