// The simulator's vocabulary of behaviours and faults, and the one mutable holder of the faults
// in force. The servers read it on every query and every new connection, so a test can switch a
// fault between two probes without restarting anything.

export const STAGE_BEHAVIOURS = [
  "ok",
  "forbidden",
  "missing-token",
  "deny",
  "no-allow",
  "unauthorized",
  "throttled",
  "backend-error",
  // MISSING_AUTHENTICATION_TOKEN customized to 404, as teams commonly do: the error type stays.
  "missing-token-404",
] as const;
export type StageBehaviour = (typeof STAGE_BEHAVIOURS)[number];

export const DNS_FAULTS = [
  "nxdomain",
  "nodata",
  "servfail",
  "refused",
  "timeout",
  "malformed",
  "wrong-id",
  "public",
  "truncate",
  // On-prem DNS forwards the whole execute-api.<region>.amazonaws.com zone to the VPC, whose
  // endpoint has private DNS on: any API id of the region resolves to the endpoint.
  "zone-forward",
  // The endpoint publishes AAAA records only (DnsRecordIpType ipv6, or an IPv6-only endpoint).
  "aaaa-only",
] as const;
export type DnsFault = (typeof DNS_FAULTS)[number];

export const ADDRESS_FAULTS = [
  "refuse",
  "tls-stall",
  "untrusted-cert",
  "wrong-name",
  "tls-reset",
  "http-stall",
  "http-garbage",
  "proxy-403",
] as const;
export type AddressFault = (typeof ADDRESS_FAULTS)[number];

export interface Faults {
  dns?: DnsFault | null;
  address?: Record<string, AddressFault | null>;
}

export function isStageBehaviour(value: string): value is StageBehaviour {
  return (STAGE_BEHAVIOURS as readonly string[]).includes(value);
}

export function isDnsFault(value: string): value is DnsFault {
  return (DNS_FAULTS as readonly string[]).includes(value);
}

export function isAddressFault(value: string): value is AddressFault {
  return (ADDRESS_FAULTS as readonly string[]).includes(value);
}

/** Node reports IPv4 peers of a dual-stack socket as `::ffff:a.b.c.d`; faults are keyed by `a.b.c.d`. */
export function normalizeAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

export class FaultState {
  private dnsFault: DnsFault | null = null;
  private readonly byAddress = new Map<string, AddressFault>();

  constructor(initial: Faults = {}) {
    this.set(initial);
  }

  /** Replaces every fault: what `f` does not name is cleared, so a test states the whole world. */
  set(f: Faults): void {
    validateFaults(f);
    this.dnsFault = f.dns ?? null;
    this.byAddress.clear();
    for (const [address, fault] of Object.entries(f.address ?? {})) {
      if (fault) this.byAddress.set(normalizeAddress(address), fault);
    }
  }

  dns(): DnsFault | null {
    return this.dnsFault;
  }

  address(address: string | undefined): AddressFault | null {
    if (address === undefined) return null;
    return this.byAddress.get(normalizeAddress(address)) ?? null;
  }
}

// Faults also arrive from JSON and the command line, where the type system does not reach.
function validateFaults(f: Faults): void {
  if (f.dns != null && !isDnsFault(f.dns)) throw new TypeError(`unknown DNS fault: ${f.dns}`);
  for (const [address, fault] of Object.entries(f.address ?? {})) {
    if (fault != null && !isAddressFault(fault)) {
      throw new TypeError(`unknown fault for ${address}: ${String(fault)}`);
    }
  }
}

export function validateStages(stages: Record<string, string>): void {
  for (const [stage, behaviour] of Object.entries(stages)) {
    if (!isStageBehaviour(behaviour)) {
      throw new TypeError(`unknown behaviour for stage ${stage}: ${behaviour}`);
    }
  }
}
