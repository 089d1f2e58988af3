// One report read as the address x stage matrix: for every path (an endpoint address and a stage),
// whether it answered as expected and, if not, the finding that stopped it. The metrics, /probe
// and the status page all read the matrix from here, so an alert and the page never disagree.
import type { Finding, Layer, TargetReport } from "../types.js";

/** Addresses per target that get their own series; DNS answers beyond this are not labelled. */
export const MAX_ADDRESSES_PER_TARGET = 16;

const LAYER_ORDER: Record<Layer, number> = { dns: 0, path: 1, tcp: 2, tls: 3, http: 4, aws: 5 };

export interface Cell {
  /** "" when DNS gave no usable address: the path stopped before any address. */
  address: string;
  stage: string;
  ok: boolean;
  /** The lowest failing finding on this path (the one that stopped it), if any. */
  failure?: Finding;
  /** The http finding for this path when the request was made. */
  http?: Finding;
}

export interface Matrix {
  /** Resolved addresses, sorted, at most MAX_ADDRESSES_PER_TARGET; [""] when there were none. */
  addresses: string[];
  stages: string[];
  /** Address-major: every stage of the first address, then of the next. */
  cells: Cell[];
}

/** The addresses a run connected to, in a stable order. */
export function resolvedAddresses(report: TargetReport): string[] {
  return [...report.addresses].sort();
}

export function matrix(report: TargetReport): Matrix {
  const resolved = resolvedAddresses(report).slice(0, MAX_ADDRESSES_PER_TARGET);
  const addresses = resolved.length > 0 ? resolved : [""];
  const cells: Cell[] = [];
  for (const address of addresses)
    for (const stage of report.stages) cells.push(cell(report, address, stage));
  return { addresses, stages: report.stages, cells };
}

function cell(report: TargetReport, address: string, stage: string): Cell {
  if (address === "") {
    // No address to try: the path stopped at DNS (whichever resolver failed first says why).
    const failure = report.findings.find((f) => f.layer === "dns" && f.status === "fail");
    return { address, stage, ok: false, failure };
  }
  const http = report.findings.find(
    (f) => f.layer === "http" && f.address === address && f.stage === stage,
  );
  if (http?.status === "pass") return { address, stage, ok: true, http };
  // A connection failure is the address's (no stage) unless this stage's connection failed
  // differently; the lowest layer is what stopped the path.
  const failures = report.findings.filter(
    (f) =>
      f.status === "fail" &&
      f.layer !== "dns" &&
      f.layer !== "aws" && // names a resource, is not a failure of the path
      f.address === address &&
      (f.stage === stage || f.stage === undefined),
  );
  const failure = failures.sort(
    (a, b) =>
      LAYER_ORDER[a.layer] - LAYER_ORDER[b.layer] ||
      Number(b.stage === stage) - Number(a.stage === stage),
  )[0];
  return { address, stage, ok: false, failure, http };
}
