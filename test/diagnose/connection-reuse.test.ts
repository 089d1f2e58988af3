// One connection per address: every stage's request rides it in turn, and a connection that
// cannot carry the next request hands the stages left to connections of their own.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { diagnoseTarget } from "../../src/diagnose/run.js";
import { DEFAULT_ENDPOINT, startSimulator, type Simulator } from "../../src/simulator/index.js";
import type { TargetReport } from "../../src/types.js";
import { second, simRun, simTarget } from "../helpers.js";
import {
  peerEndpoint,
  tcpPeer,
  tlsPeer,
  type Peer,
  type PeerEndpoint,
} from "../hostile/servers.js";

const APIGW = "x-amzn-RequestId: 11111111-2222-3333-4444-555555555555\r\n";
const OK = `HTTP/1.1 200 OK\r\n${APIGW}content-type: application/json\r\ncontent-length: 2\r\n`;

describe("against the simulator", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({
      stages: { prod: "ok", v2: "ok", v3: "ok" },
    });
  });
  afterAll(() => sim.close());

  it("sends every stage of an address on one connection", async () => {
    const before = sim.stats();
    const r = await diagnoseTarget(simTarget(sim, { stages: ["prod", "v2", "v3"] }), simRun(sim));
    const after = sim.stats();
    expect(r.verdict).toBe("healthy");
    // One per address, and one TLS 1.2-only handshake (TLS_12_REFUSED's check, per target).
    expect(after.connections - before.connections).toBe(3);
    expect(after.requests - before.requests).toBe(6);
    const http = r.findings.filter((f) => f.layer === "http");
    expect(http.map((f) => `${f.address} ${f.stage} ${f.code}`).sort()).toEqual(
      ["127.0.0.1", second(sim)].flatMap((a) =>
        ["prod", "v2", "v3"].map((stage) => `${a} ${stage} HTTP_OK`),
      ),
    );
    // The connection's findings are the address's: one TCP and one TLS finding per address.
    expect(r.findings.filter((f) => f.layer === "tcp" || f.layer === "tls")).toHaveLength(4);
    expect(
      r.findings
        .filter((f) => f.layer !== "dns")
        .every((f) => f.layer === "http" || f.stage === undefined),
    ).toBe(true);
  });
});

describe("against servers that close", () => {
  let endpoint: PeerEndpoint;
  const peers: Peer[] = [];
  beforeAll(async () => {
    endpoint = await peerEndpoint();
  });
  afterAll(() => endpoint.close());
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });

  async function diagnosePeer(
    peer: Peer,
    stages: string[],
    opts: { concurrency?: number } = {},
  ): Promise<TargetReport> {
    peers.push(peer);
    const target = endpoint.target(peer, stages, "600ms");
    const report = await diagnoseTarget(target, opts);
    await expect.poll(() => peer.closed, { timeout: 2000 }).toBe(peer.accepted);
    return report;
  }

  const httpCodes = (r: TargetReport) =>
    r.findings.filter((f) => f.layer === "http").map((f) => `${f.stage} ${f.code}`);

  it("gives the next stage a connection of its own after `Connection: close`, and no finding says so", async () => {
    const peer = await tlsPeer(DEFAULT_ENDPOINT, (s) => s.end(`${OK}connection: close\r\n\r\n{}`));
    const r = await diagnosePeer(peer, ["prod", "v2", "v3"]);
    expect(httpCodes(r)).toEqual(["prod HTTP_OK", "v2 HTTP_OK", "v3 HTTP_OK"]);
    expect(r.verdict).toBe("healthy");
    // And one TLS 1.2-only handshake (TLS_12_REFUSED's check, once per target).
    expect(peer.accepted).toBe(4);
  });

  it("retries a stage on a new connection when the kept one closes unanswered (idle close)", async () => {
    // Answers the first request of a connection and closes it, unannounced, at the second.
    const peer = await tlsPeer(DEFAULT_ENDPOINT, (s) => {
      s.write(`${OK}\r\n{}`);
      s.once("data", () => s.end());
    });
    const r = await diagnosePeer(peer, ["prod", "v2", "v3"]);
    expect(httpCodes(r)).toEqual(["prod HTTP_OK", "v2 HTTP_OK", "v3 HTTP_OK"]);
    expect(r.verdict).toBe("healthy");
    // prod and the attempt of v2 on the first; then v2 and v3 on one each; and one TLS 1.2-only
    // handshake (TLS_12_REFUSED's check).
    expect(peer.accepted).toBe(4);
  });

  it("reports a close at the first request of a connection, which is no idle close", async () => {
    const peer = await tlsPeer(DEFAULT_ENDPOINT, (s) => s.end());
    const r = await diagnosePeer(peer, ["prod"]);
    expect(r.findings.find((f) => f.layer === "http")?.code).not.toBe("HTTP_OK");
    expect(r.verdict).toBe("failing");
  });

  it("gives the stages after a slow answer connections of their own, at once", async () => {
    // Each answer takes 300 ms, past a quarter of the 600 ms timeout.
    const peer = await tlsPeer(DEFAULT_ENDPOINT, (s) => {
      const answer = () => setTimeout(() => s.writable && s.write(`${OK}\r\n{}`), 300);
      answer();
      s.on("data", answer);
    });
    const r = await diagnosePeer(peer, ["prod", "v2", "v3"]);
    expect(httpCodes(r).sort()).toEqual(["prod HTTP_OK", "v2 HTTP_OK", "v3 HTTP_OK"]);
    // And one TLS 1.2-only handshake (TLS_12_REFUSED's check).
    expect(peer.accepted).toBe(4);
    // One connection at a time: the stages handed off wait for the slot the first one frees.
    const one = await diagnosePeer(peer, ["prod", "v2", "v3"], { concurrency: 1 });
    expect(httpCodes(one).sort()).toEqual(["prod HTTP_OK", "v2 HTTP_OK", "v3 HTTP_OK"]);
  });

  it("costs about one timeout when no stage is ever answered, not one per stage", async () => {
    const stages = ["s1", "s2", "s3", "s4", "s5", "s6"];
    const peer = await tlsPeer(DEFAULT_ENDPOINT, () => {});
    const started = performance.now();
    const r = await diagnosePeer(peer, stages);
    // A quarter of the 600 ms timeout, then one timeout; one stage after another would be 3.6 s.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(httpCodes(r).sort()).toEqual(stages.map((s) => `${s} HTTP_TIMEOUT`));
  });

  it("tries no other stage once the address's connection failed below HTTP", async () => {
    const peer = await tcpPeer((s) => s.once("data", () => s.end("not tls\r\n")));
    const r = await diagnosePeer(peer, ["prod", "v2", "v3"]);
    expect(peer.accepted).toBe(1);
    expect(r.findings.find((f) => f.layer === "tls")?.status).toBe("fail");
    expect(r.skipped).toEqual([
      {
        address: "127.0.0.1",
        layers: ["http"],
        reason: expect.stringMatching(/^TLS_\w+ on 127\.0\.0\.1$/),
      },
    ]);
  });
});
