// What a private custom domain name target needs (DESIGN: --domain, --base-path, --family).
import { UsageError, type Family } from "../types.js";

/** A base path as API Gateway maps it: without slashes, "" for the root (`/`, "(none)"). */
export function checkBasePath(input: string): string {
  const path = input.replace(/^\/+|\/+$/g, "");
  // Base path mappings are path segments: letters, digits and ._-~ (percent-encoded ones refused).
  if (
    !/^(?:[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*)?$/.test(path) ||
    /(^|\/)\.\.?(\/|$)/.test(path)
  ) {
    throw new UsageError(
      `base path: ${JSON.stringify(input)} is not a base path (letters, digits, . _ ~ - and /)`,
    );
  }
  return path;
}

export function checkFamily(value: string): Family {
  if (value === "auto" || value === "4" || value === "6") return value;
  throw new UsageError(`family: auto, 4 or 6, not ${JSON.stringify(value)}`);
}

/** Mode `domain`: --api-id and --stage go together (they name what to compare with). */
export function domainParts(t: {
  domain?: string;
  endpoint?: string;
  apiId?: string;
  stages: string[];
}): void {
  if (!t.domain) return;
  if ((t.apiId === undefined) !== (t.stages.length === 0))
    throw new UsageError("--domain: give --api-id and --stage together, or neither");
}
