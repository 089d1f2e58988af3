// A data-plane failure that an aws finding explains takes that finding's resource and change into
// the primary cause's hint: `TCP_TIMEOUT` on 10.20.2.10 + `AWS_NO_RETURN_ROUTE` for its subnet.
// The verdict and the exit code never change because of the aws layer.
import type { AwsCode, AwsFinding, Finding, FindingCode, PrimaryCause } from "../types.js";

/** Which aws findings can explain which data-plane codes. */
const EXPLAINS: Partial<Record<FindingCode, AwsCode[]>> = {
  TCP_TIMEOUT: [
    "AWS_SG_BLOCKS_SOURCE",
    "AWS_NACL_BLOCKS",
    "AWS_NO_RETURN_ROUTE",
    "AWS_ENDPOINT_STATE",
  ],
  TCP_REFUSED: ["AWS_ENDPOINT_STATE"],
  DNS_NXDOMAIN: ["AWS_ENDPOINT_STATE"],
  DNS_PUBLIC_ADDRESS: ["AWS_ENDPOINT_STATE"],
  HTTP_FORBIDDEN: [
    "AWS_STAGE_MISSING",
    "AWS_API_NOT_PRIVATE",
    "AWS_DEFAULT_ENDPOINT_DISABLED",
    "AWS_ACCESS_MODE_STRICT",
    "AWS_POLICY_EXCLUDES_ENDPOINT",
  ],
  HTTP_MODE_REJECTED: ["AWS_ACCESS_MODE_STRICT"],
  HTTP_MISDIRECTED: ["AWS_ACCESS_MODE_STRICT"],
  HTTP_POLICY_DENY: ["AWS_POLICY_EXCLUDES_ENDPOINT"],
  HTTP_POLICY_NO_ALLOW: ["AWS_POLICY_EXCLUDES_ENDPOINT"],
  HTTP_DOMAIN_FORBIDDEN: ["AWS_NO_DOMAIN_ASSOCIATION"],
};

/** The aws findings that explain this cause: the same code family, address and stage. */
export function explaining(cause: PrimaryCause, findings: Finding[]): AwsFinding[] {
  const codes = EXPLAINS[cause.code] ?? [];
  const within = (v: string | undefined, scope: string[]) =>
    v === undefined || scope.length === 0 || scope.includes(v);
  return findings.filter(
    (f): f is AwsFinding =>
      f.layer === "aws" &&
      f.status === "fail" &&
      codes.includes(f.code) &&
      within(f.address, cause.addresses) &&
      within(f.stage, cause.stages),
  );
}

/** The cause with the explaining findings' hints (each names its resource and change) first. */
export function explainCause(cause: PrimaryCause | null, findings: Finding[]): PrimaryCause | null {
  if (!cause) return cause;
  const why = explaining(cause, findings);
  if (why.length === 0) return cause;
  const hints = [...new Set(why.map((f) => f.hint))];
  return { ...cause, hint: `AWS: ${hints.join(" ")} ${cause.hint}` };
}
