// What the operating system answers for the name (/etc/hosts, NSS, its resolver), to compare
// with what the DNS servers say: an override there silently sends traffic elsewhere.
import { spawn } from "node:child_process";
import { lookup } from "node:dns/promises";
import { bounded, elapsed, ended, now, type ProbeContext } from "./context.js";

export interface OsLookupObservation {
  name: string;
  addresses: string[];
  errorCode?: string;
  timedOut: boolean;
  cancelled?: boolean;
  durationMs: number;
}

/** Resolves a name as the OS does; `signal` aborts when the answer is no longer wanted. */
export type LookupFn = (name: string, signal: AbortSignal) => Promise<string[]>;

/**
 * getaddrinfo runs in libuv's thread pool (4 threads by default) and cannot be cancelled: a name
 * whose lookup hangs keeps its thread busy for glibc's own retries. One lookup per name at a
 * time, shared by every run that asks meanwhile, so a daemon whose resolver hangs holds at most
 * one thread per target instead of one more each interval.
 */
const inFlight = new Map<string, Promise<string[]>>();
export const inProcessLookup: LookupFn = (name) => {
  let pending = inFlight.get(name);
  if (!pending) {
    pending = lookup(name, { all: true, verbatim: true })
      .then((answers) => answers.map((a) => a.address))
      .finally(() => inFlight.delete(name));
    inFlight.set(name, pending);
  }
  return pending;
};

// The lookup a child runs: the same dns.lookup, its answer as one JSON line.
const CHILD_SCRIPT = `require("node:dns").lookup(process.argv[1], { all: true, verbatim: true }, (err, answers) => {
  process.stdout.write(JSON.stringify(err ? { code: err.code || "ERROR" } : { addresses: answers.map((a) => a.address) }));
});`;

/**
 * The same lookup in a child process, for a one-shot run. A process cannot exit while a
 * getaddrinfo is running in its thread pool (exit joins the pool's threads), so a resolver that
 * never answers would hold the finished report's process for glibc's retries, 10 s and more. A
 * child is killed when the answer is no longer wanted, and the run exits when it is done.
 */
export const isolatedLookup: LookupFn = (name, signal) =>
  new Promise<string[]>((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", CHILD_SCRIPT, name], {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    const kill = () => child.kill("SIGKILL");
    signal.addEventListener("abort", kill, { once: true });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.once("error", (err) => reject(err));
    child.once("close", () => {
      signal.removeEventListener("abort", kill);
      try {
        const answer = JSON.parse(out) as { addresses?: string[]; code?: string };
        if (answer.addresses) resolve(answer.addresses);
        else reject(Object.assign(new Error("lookup failed"), { code: answer.code }));
      } catch {
        reject(Object.assign(new Error("lookup gave no answer"), { code: "ENOANSWER" }));
      }
    });
  });

export async function probeOsLookup(
  ctx: ProbeContext,
  name: string,
  lookupFn: LookupFn = inProcessLookup,
): Promise<OsLookupObservation> {
  const started = now();
  const controller = new AbortController();
  return bounded<OsLookupObservation>(
    ctx,
    (reason) => ({ name, addresses: [], ...ended(reason), durationMs: elapsed(started) }),
    (settle) => {
      lookupFn(name, controller.signal).then(
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
      return () => controller.abort();
    },
  );
}
