// What the operating system answers for the name (/etc/hosts, NSS, its resolver), to compare
// with what the DNS servers say: an override there silently sends traffic elsewhere.
import { lookup } from "node:dns/promises";
import { bounded, elapsed, ended, type ProbeContext } from "./context.js";

export interface OsLookupObservation {
  name: string;
  addresses: string[];
  errorCode?: string;
  timedOut: boolean;
  cancelled?: boolean;
  durationMs: number;
}

export type LookupFn = (name: string) => Promise<string[]>;

/**
 * getaddrinfo runs in libuv's thread pool (4 threads by default) and cannot be cancelled: a name
 * whose lookup hangs keeps its thread busy for glibc's own retries. One lookup per name at a
 * time, shared by every run that asks meanwhile, so a daemon whose resolver hangs holds at most
 * one thread per target instead of one more each interval.
 */
const inFlight = new Map<string, Promise<string[]>>();
const systemLookup: LookupFn = (name) => {
  let pending = inFlight.get(name);
  if (!pending) {
    pending = lookup(name, { all: true, verbatim: true })
      .then((answers) => answers.map((a) => a.address))
      .finally(() => inFlight.delete(name));
    inFlight.set(name, pending);
  }
  return pending;
};

export async function probeOsLookup(
  ctx: ProbeContext,
  name: string,
  lookupFn: LookupFn = systemLookup,
): Promise<OsLookupObservation> {
  const started = performance.now();
  return bounded<OsLookupObservation>(
    ctx,
    (reason) => ({ name, addresses: [], ...ended(reason), durationMs: elapsed(started) }),
    (settle) => {
      lookupFn(name).then(
        (addresses) =>
          settle({
            name,
            addresses: [...new Set(addresses)],
            timedOut: false,
            cancelled: false,
            durationMs: elapsed(started),
          }),
        (err: NodeJS.ErrnoException) =>
          settle({
            name,
            addresses: [],
            errorCode: err.code ?? "ERROR",
            timedOut: false,
            cancelled: false,
            durationMs: elapsed(started),
          }),
      );
      return () => {};
    },
  );
}
