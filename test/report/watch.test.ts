import { describe, expect, it } from "vitest";
import {
  fixedLine,
  formatDuration,
  newWatchState,
  observeRun,
  slowFixNote,
  watchLine,
} from "../../src/report/watch.js";
import type { Finding, FindingCode, Report, TargetReport, Verdict } from "../../src/types.js";

const finding = (code: FindingCode, status: Finding["status"], address?: string): Finding =>
  ({
    layer: code.startsWith("TCP") ? "tcp" : "http",
    code,
    status,
    address,
    timings: {},
    message: code,
    hint: "",
    evidence: {},
  }) as unknown as Finding;

function target(name: string, verdict: Verdict, findings: Finding[]): TargetReport {
  const failing = findings.find((f) => f.status === "fail");
  return {
    name,
    endpoint: "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com",
    apiId: "a1b2c3d4e5",
    mode: "header",
    stages: ["prod"],
    comparisonRequests: 0,
    addresses: ["10.0.1.5", "10.0.2.5"],
    verdict,
    primaryCause: failing
      ? {
          layer: failing.layer,
          code: failing.code,
          message: "",
          hint: "",
          addresses: failing.address ? [failing.address] : [],
          stages: ["prod"],
        }
      : null,
    skipped: [],
    unfinished: [],
    insecure: false,
    durationMs: 10,
    findings,
  };
}

function report(at: string, targets: TargetReport[]): Report {
  const rank = { healthy: 0, degraded: 1, failing: 2 } as const;
  const verdict = targets.map((t) => t.verdict).sort((a, b) => rank[b] - rank[a])[0] ?? "healthy";
  return {
    schemaVersion: 1,
    tool: { name: "apigw-diag", version: "0.0.0" },
    startedAt: at,
    durationMs: 10,
    targets,
    verdict,
    interrupted: false,
    exitCode: rank[verdict] as 0 | 1 | 2,
  };
}

const ok = (name = "orders") =>
  target(name, "healthy", [finding("TCP_OK", "pass", "10.0.1.5"), finding("HTTP_OK", "pass")]);
const dropped = (name = "orders") =>
  target(name, "degraded", [
    finding("TCP_OK", "pass", "10.0.1.5"),
    finding("TCP_TIMEOUT", "fail", "10.0.2.5"),
  ]);

describe("--watch: a run beside the runs before it", () => {
  it("shows the full report on the first run, and not again while nothing changes", () => {
    const state = newWatchState();
    const first = observeRun(state, report("2026-01-01T10:00:00Z", [dropped()]), 1);
    expect(first).toMatchObject({ run: 1, showReport: true, changes: [], fixed: [] });
    const second = observeRun(state, report("2026-01-01T10:00:10Z", [dropped()]), 2);
    expect(second).toMatchObject({ run: 2, showReport: false, changes: [], fixed: [] });
    expect(
      watchLine(report("2026-01-01T10:00:10Z", [dropped()]), second, { color: false }),
    ).toMatch(/DEGRADED +TCP_TIMEOUT on 1 of 2 addresses {2}· no change$/);
  });

  it("says what changed, and shows the report again when the verdict or the cause changes", () => {
    const state = newWatchState();
    observeRun(state, report("2026-01-01T10:00:00Z", [ok()]), 1);
    const worse = observeRun(state, report("2026-01-01T10:00:10Z", [dropped()]), 2);
    expect(worse.showReport).toBe(true);
    expect(worse.changes).toEqual([
      "healthy -> degraded",
      "cause none -> TCP_TIMEOUT",
      "+TCP_TIMEOUT 10.0.2.5",
    ]);
    expect(worse.fixed).toEqual([]);
  });

  it("says FIXED, with how long since the first unhealthy run, when a target turns healthy", () => {
    const state = newWatchState();
    observeRun(state, report("2026-01-01T10:00:00Z", [ok()]), 1);
    observeRun(state, report("2026-01-01T10:00:10Z", [dropped()]), 2);
    observeRun(state, report("2026-01-01T10:01:10Z", [dropped()]), 3);
    const fixed = observeRun(state, report("2026-01-01T10:04:22Z", [ok()]), 4);
    expect(fixed.fixed).toEqual([
      { target: "orders", afterMs: 252_000, was: "degraded", cause: "TCP_TIMEOUT" },
    ]);
    expect(fixed.changes).toContain("-TCP_TIMEOUT 10.0.2.5");
    expect(fixedLine(fixed.fixed[0]!, false)).toBe("FIXED after 4m12s: was degraded (TCP_TIMEOUT)");
    // Healthy again and again: fixed once only.
    expect(observeRun(state, report("2026-01-01T10:04:32Z", [ok()]), 5).fixed).toEqual([]);
  });

  it("names each target when there are several, and fixes them one by one", () => {
    const state = newWatchState();
    observeRun(state, report("2026-01-01T10:00:00Z", [dropped("orders"), ok("ledger")]), 1);
    const r = report("2026-01-01T10:00:30Z", [ok("orders"), dropped("ledger")]);
    const change = observeRun(state, r, 2);
    expect(change.fixed.map((f) => f.target)).toEqual(["orders"]);
    expect(change.changes).toContain("ledger: healthy -> degraded");
    const line = watchLine(r, change, { color: false });
    expect(line).toContain("orders healthy; ledger degraded TCP_TIMEOUT");
    expect(line).toContain("(+");
    expect(fixedLine(change.fixed[0]!, true)).toBe(
      "FIXED after 30s: orders was degraded (TCP_TIMEOUT)",
    );
  });

  it("escapes what peers and configs named, never its own colors", () => {
    const state = newWatchState();
    const t = dropped("evil\x1b[2J");
    const r = report("2026-01-01T10:00:00Z", [t, ok()]);
    const line = watchLine(r, observeRun(state, r, 1), { color: true });
    expect(line).toContain("evil\\x1b[2J");
    expect(line).toContain("\x1b[1;33mDEGRADED");
  });

  it("formats how long a fix took", () => {
    expect([900, 42_000, 252_000, 3_780_000].map(formatDuration)).toEqual([
      "1s",
      "42s",
      "4m12s",
      "1h03m",
    ]);
  });

  it("notes that an access mode or domain association change takes about 15 minutes", () => {
    const strict = target("orders", "failing", [finding("HTTP_MODE_REJECTED", "fail", "10.0.1.5")]);
    expect(slowFixNote(report("2026-01-01T10:00:00Z", [strict]))).toMatch(/about 15 minutes/);
    expect(slowFixNote(report("2026-01-01T10:00:00Z", [dropped()]))).toBeUndefined();
  });
});
