// The run's one hook for progress: every check it waits on is told as it starts, with the
// promise that ends it, and nothing changes in the report.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PendingCheck } from "../../src/diagnose/pending.js";
import { diagnose } from "../../src/diagnose/run.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { simTarget } from "../helpers.js";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ addresses: ["127.0.0.1"], stages: { prod: "ok", v2: "ok" } });
});
afterAll(() => sim.close());

describe("onPending", () => {
  it("tells each dns, tcp, tls and http check as it starts, and each settles", async () => {
    const seen: PendingCheck[] = [];
    const ends: Promise<unknown>[] = [];
    const report = await diagnose([simTarget(sim)], {
      onPending: (check, settled) => {
        seen.push(check);
        ends.push(settled);
      },
    });
    expect(report.verdict).toBe("healthy");
    const timeoutMs = 800; // simTarget's
    expect(seen).toEqual([
      { layer: "dns", resolver: `127.0.0.1:${sim.dns.port}`, timeoutMs },
      { layer: "tcp", address: "127.0.0.1", timeoutMs },
      { layer: "tls", address: "127.0.0.1", timeoutMs },
      { layer: "http", address: "127.0.0.1", stage: "prod", timeoutMs },
      { layer: "http", address: "127.0.0.1", stage: "v2", timeoutMs },
    ]);
    await Promise.all(ends); // each one settled: nothing is left pending
  });

  it("tells of a check that never answers, whose promise settles at its timeout", async () => {
    sim.setFaults({ address: { "127.0.0.1": "tls-stall" } });
    try {
      const tls: Promise<unknown>[] = [];
      const report = await diagnose([simTarget(sim)], {
        onPending: (check, settled) => {
          if (check.layer === "tls") tls.push(settled);
        },
      });
      expect(report.targets[0]?.primaryCause?.code).toBe("TLS_TIMEOUT");
      expect(tls).toHaveLength(1);
      await expect(tls[0]).resolves.toMatchObject({ observation: { timedOut: true } });
    } finally {
      sim.setFaults({});
    }
  });
});
