// The aws layer of one target: read AWS (at most once per `aws.refresh` for the same resources,
// so the daemon does not read it every interval), then judge it against the run's addresses.
// Imported only when the layer is on (src/diagnose/run.ts), and it alone imports the reader.
import type { PreparedTarget } from "../config/prepare.js";
import { parseEndpoint } from "../config/names.js";
import type { AwsFinding } from "../types.js";
import { evaluateAws, type AwsTarget } from "./evaluate.js";
import { describeError, loadSdk, readAws } from "./sdk.js";
import { now } from "../probes/context.js";
import type { AwsSnapshot } from "./snapshot.js";

/** Judges what was read against the addresses the run probed. */
export type AwsJudge = (
  addresses: string[],
  sources: Map<string, string | undefined>,
) => Promise<AwsFinding[]>;

interface Cached {
  at: number;
  snapshot: Promise<AwsSnapshot>;
}
/** Keyed by what is read; a handful of targets, bounded anyway. */
const cache = new Map<string, Cached>();
const MAX_CACHED = 64;

/**
 * Loads the SDK (before any phase's clock starts: loading blocks the event loop), starts reading
 * without waiting for the answers, and returns the judge to call once the probes are done.
 */
export async function startAws(target: PreparedTarget, signal: AbortSignal): Promise<AwsJudge> {
  const settings = target.aws;
  if (!settings) return async () => [];
  await loadSdk();
  const started = now();
  const { vpceId, region } = target.endpoint ? parseEndpoint(target.endpoint) : {};
  const req = {
    region,
    profile: settings.profile,
    vpceId,
    apiId: target.apiId,
    domain: target.mode === "domain",
  };
  const key = JSON.stringify(req);
  let entry = cache.get(key);
  if (!entry || now() - entry.at >= settings.refreshMs) {
    if (cache.size >= MAX_CACHED) cache.clear();
    entry = { at: started, snapshot: readAws({ ...req, timeoutMs: target.timeoutMs, signal }) };
    cache.set(key, entry);
  }
  const reading = entry.snapshot;
  // A cancelled read is not kept: the next run reads again.
  reading.then(
    (s) => {
      if (s.unreadable.some((u) => u.error.startsWith("AbortError"))) cache.delete(key);
    },
    () => cache.delete(key),
  );
  const awsTarget: AwsTarget = {
    mode: target.mode,
    vpceId,
    apiId: target.apiId,
    stages: target.mode === "domain" ? [] : target.stages,
    path: target.path,
    domain: target.domain,
  };
  return async (addresses, sources) => {
    const snapshot = await reading.catch((err: unknown): AwsSnapshot => ({
      region: region ?? "",
      unreadable: [{ action: "aws", error: describeError(err) }],
    }));
    const findings = evaluateAws(snapshot, awsTarget, addresses, sources);
    const total = Math.round(now() - started);
    for (const f of findings) f.timings = { total };
    return findings;
  };
}
