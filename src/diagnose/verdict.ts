// Findings -> verdict and one primary cause, with the cross-evidence a person would use.
import type { Finding, FindingCode, Layer, PrimaryCause, Verdict } from "../types.js";
import { isIpv6 } from "./addresses.js";
import {
  everyStageForbiddenHint,
  ipv6OnlyHint,
  oneZoneHint,
  routingHint,
  stageNotDeployedHint,
} from "../hints.js";
import { explainCause } from "../aws/explain.js";

const LAYERS: Layer[] = ["dns", "path", "tcp", "tls", "http"];
// Defined beside the Verdict type, for the report model too (report/ does not import diagnose/).
export { worstVerdict } from "../types.js";

export function summarize(
  all: Finding[],
  addresses: string[],
  stages: string[],
): { verdict: Verdict; primaryCause: PrimaryCause | null } {
  // The aws layer names resources: it never changes the verdict, only the cause's hint.
  const findings = all.filter((f) => f.layer !== "aws");
  const working = findings.filter((f) => f.layer === "http" && f.status === "pass");
  const paths = addresses.length * stages.length;
  const failures = findings.filter((f) => f.status === "fail");
  const verdict: Verdict =
    working.length === 0
      ? "failing"
      : working.length === paths && failures.length === 0
        ? "healthy"
        : "degraded";
  return {
    verdict,
    primaryCause:
      verdict === "healthy"
        ? null
        : explainCause(primaryCause(failures, working, addresses, stages), all),
  };
}

/** The lowest failing layer, and within it the code most failing paths share. */
function primaryCause(
  failures: Finding[],
  working: Finding[],
  addresses: string[],
  stages: string[],
): PrimaryCause | null {
  const layer = LAYERS.find((l) => failures.some((f) => f.layer === l));
  if (!layer) return null;
  const inLayer = failures.filter((f) => f.layer === layer);
  const counts = new Map<FindingCode, number>();
  for (const f of inLayer) counts.set(f.code, (counts.get(f.code) ?? 0) + 1);
  const code = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? inLayer[0]!.code;
  const same = inLayer.filter((f) => f.code === code);
  const hitAddresses = unique(same.map((f) => f.address));
  const hitStages = unique(same.map((f) => f.stage));
  const sample = same[0]!;
  return {
    layer,
    code,
    message: scopeMessage(sample, hitAddresses, hitStages, addresses, stages),
    hint: crossEvidenceHint(sample, hitAddresses, hitStages, working, addresses, stages, counts),
    addresses: hitAddresses,
    stages: hitStages,
  };
}

function unique(values: (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== undefined))];
}

function scopeMessage(
  sample: Finding,
  hitA: string[],
  hitS: string[],
  addresses: string[],
  stages: string[],
): string {
  // The code is the cause's own field; the message says where, then what was seen.
  const parts: string[] = [];
  if (hitA.length)
    parts.push(
      `on ${hitA.length} of ${addresses.length} address${addresses.length > 1 ? "es" : ""} (${hitA.join(", ")})`,
    );
  if (hitS.length)
    parts.push(`for stage${hitS.length > 1 ? "s" : ""} ${hitS.join(", ")} of ${stages.length}`);
  const scope = parts.join(" ");
  return scope ? `${scope}: ${sample.message}` : sample.message;
}

function crossEvidenceHint(
  sample: Finding,
  hitA: string[],
  hitS: string[],
  working: Finding[],
  addresses: string[],
  stages: string[],
  layerCodes: Map<FindingCode, number>,
): string {
  const workingStages = unique(working.map((f) => f.stage));
  const workingAddresses = unique(working.map((f) => f.address));
  if (sample.code === "HTTP_FORBIDDEN") {
    if (workingStages.length > 0 && hitS.every((s) => !workingStages.includes(s)))
      return stageNotDeployedHint(hitS, workingStages);
    if (hitS.length === stages.length && sample.layer === "http") {
      // The tool compared access modes itself (compare.ts): say what that ruled out.
      const compared = sample.evidence.comparison?.host !== undefined;
      // Headers not recorded: the run's default, header mode.
      const sent = sample.evidence.headers;
      const apiIdHeader = sent === undefined || sent["x-apigw-api-id"] !== undefined;
      return everyStageForbiddenHint({ compared, apiIdHeader }, sample.hint);
    }
  }
  const workingV4 = workingAddresses.filter((a) => !isIpv6(a));
  if (
    sample.layer !== "dns" &&
    sample.layer !== "path" &&
    hitA.length > 0 &&
    hitA.every(isIpv6) &&
    workingV4.length > 0 &&
    workingAddresses.every((a) => !isIpv6(a))
  ) {
    return ipv6OnlyHint(sample.layer as "tcp" | "tls" | "http", hitA, workingV4, sample.hint);
  }
  if (
    (sample.layer === "tcp" || sample.layer === "tls") &&
    workingAddresses.length > 0 &&
    hitA.length < addresses.length
  ) {
    return oneZoneHint(hitA, workingAddresses, sample.hint);
  }
  if (sample.code === "TCP_TIMEOUT" && layerCodes.has("TCP_UNREACHABLE")) {
    return routingHint(sample.hint);
  }
  return sample.hint;
}
