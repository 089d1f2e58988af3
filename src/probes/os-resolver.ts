// What the operating system answers for the name (/etc/hosts, NSS, its resolver), to compare
// with what the DNS servers say: an override there silently sends traffic elsewhere.
import { lookup } from "node:dns/promises";
import { bounded, elapsed, type ProbeContext } from "./context.js";

export interface OsLookupObservation {
  name: string;
  addresses: string[];
  errorCode?: string;
  timedOut: boolean;
  durationMs: number;
}

export type LookupFn = (name: string) => Promise<string[]>;

const systemLookup: LookupFn = async (name) =>
  (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);

export async function probeOsLookup(
  ctx: ProbeContext,
  name: string,
  lookupFn: LookupFn = systemLookup,
): Promise<OsLookupObservation> {
  const started = performance.now();
  return bounded<OsLookupObservation>(
    ctx,
    () => ({ name, addresses: [], timedOut: true, durationMs: elapsed(started) }),
    (settle) => {
      lookupFn(name).then(
        (addresses) =>
          settle({
            name,
            addresses: [...new Set(addresses)],
            timedOut: false,
            durationMs: elapsed(started),
          }),
        (err: NodeJS.ErrnoException) =>
          settle({
            name,
            addresses: [],
            errorCode: err.code ?? "ERROR",
            timedOut: false,
            durationMs: elapsed(started),
          }),
      );
      return () => {};
    },
  );
}
