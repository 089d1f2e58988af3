// Hostile peers after DNS: a server that accepts and says nothing, trickles bytes, floods, hangs
// up mid-header, speaks HTTP/1.0 or garbage, or resets after the request. Each diagnosis ends
// in about one phase timeout with a classified finding, and leaves no socket open.
import type net from "node:net";
import type tls from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { diagnoseTarget } from "../../src/diagnose/run.js";
import { DEFAULT_API_ID, DEFAULT_ENDPOINT } from "../../src/simulator/index.js";
import type { FindingOf, Layer, TargetReport } from "../../src/types.js";
import {
  openTcpHandles,
  peerEndpoint,
  tcpPeer,
  tlsPeer,
  type Peer,
  type PeerEndpoint,
} from "./servers.js";

const TIMEOUT = 600;
const APIGW = "x-amzn-RequestId: 11111111-2222-3333-4444-555555555555\r\n";
let endpoint: PeerEndpoint;
const peers: Peer[] = [];
const timers: NodeJS.Timeout[] = [];

beforeAll(async () => {
  endpoint = await peerEndpoint();
});
afterAll(() => endpoint.close());
afterEach(async () => {
  timers.splice(0).forEach((t) => clearInterval(t));
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

/** Diagnoses `peer` as the endpoint; checks the time bound and that every connection closed. */
async function diagnosePeer(peer: Peer, stages = ["prod"]): Promise<TargetReport> {
  peers.push(peer);
  const before = openTcpHandles();
  const target = endpoint.target(peer, stages, `${TIMEOUT}ms`);
  const started = performance.now();
  const report = await diagnoseTarget(target);
  // dns, tcp, tls and http each have a budget; a hang in one of them costs about one timeout.
  expect(performance.now() - started).toBeLessThan(3 * TIMEOUT + 1000);
  expect(peer.accepted).toBeGreaterThan(0);
  await expect.poll(() => peer.closed, { timeout: 2000 }).toBe(peer.accepted);
  await expect.poll(() => openTcpHandles(), { timeout: 2000 }).toBeLessThanOrEqual(before);
  return report;
}

const find = <L extends Layer>(r: TargetReport, layer: L): FindingOf<L> => {
  const f = r.findings.find((x): x is FindingOf<L> => x.layer === layer);
  if (!f)
    throw new Error(`no ${layer} finding in ${JSON.stringify(r.findings.map((x) => x.code))}`);
  return f;
};

/** Writes `text` one byte per `everyMs`, until it is written or the connection closes. */
function trickle(socket: net.Socket | tls.TLSSocket, text: string, everyMs = 100): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer);
    socket.write(text[i++]!);
  }, everyMs);
  timers.push(timer);
}

/** Writes as fast as the connection takes it, until it closes. */
function flood(socket: net.Socket | tls.TLSSocket, chunk: string): void {
  const pump = () => {
    while (!socket.destroyed && socket.writable && socket.write(chunk));
  };
  socket.on("drain", pump);
  pump();
}

describe("hostile peers at the TCP and TLS layers", () => {
  it("classifies a peer that accepts and sends nothing as TLS_TIMEOUT", async () => {
    const r = await diagnosePeer(await tcpPeer(() => {}));
    expect(find(r, "tcp").code).toBe("TCP_OK");
    expect(find(r, "tls").code).toBe("TLS_TIMEOUT");
    expect(r.verdict).toBe("failing");
  });

  it("classifies a peer that answers the ClientHello with HTTP text as TLS_HANDSHAKE_FAILED", async () => {
    const r = await diagnosePeer(
      await tcpPeer((s) => s.once("data", () => s.end("HTTP/1.1 400 Bad Request\r\n\r\n"))),
    );
    expect(find(r, "tls").code).toBe("TLS_HANDSHAKE_FAILED");
  });

  it("classifies a handshake trickled a byte at a time as TLS_TIMEOUT", async () => {
    const r = await diagnosePeer(
      await tcpPeer((s) => s.once("data", () => trickle(s, "\x16\x03\x03\x00\x40".repeat(20)))),
    );
    expect(find(r, "tls").code).toBe("TLS_TIMEOUT");
  });

  it("classifies a reset right after the ClientHello as TLS_HANDSHAKE_FAILED", async () => {
    const r = await diagnosePeer(await tcpPeer((s) => s.once("data", () => s.resetAndDestroy())));
    expect(find(r, "tls").code).toBe("TLS_HANDSHAKE_FAILED");
  });
});

describe("hostile peers at the HTTP layer", () => {
  it("classifies a server that takes the request and says nothing as HTTP_TIMEOUT", async () => {
    const r = await diagnosePeer(await tlsPeer(DEFAULT_ENDPOINT, () => {}), ["prod", "v2"]);
    expect(find(r, "tls").code).toBe("TLS_OK");
    expect(r.findings.filter((f) => f.layer === "http").map((f) => f.code)).toEqual([
      "HTTP_TIMEOUT",
      "HTTP_TIMEOUT",
    ]);
  });

  it("classifies headers sent a byte at a time (slowloris) as HTTP_TIMEOUT", async () => {
    const r = await diagnosePeer(
      await tlsPeer(DEFAULT_ENDPOINT, (s) => trickle(s, `HTTP/1.1 200 OK\r\n${APIGW}\r\n`)),
    );
    expect(find(r, "http").code).toBe("HTTP_TIMEOUT");
    expect(find(r, "http").message).toMatch(/no response within/);
  });

  it("reports a body that stalls after the headers as HTTP_TIMEOUT, with the status it saw", async () => {
    const r = await diagnosePeer(
      await tlsPeer(DEFAULT_ENDPOINT, (s) => {
        s.write(`HTTP/1.1 200 OK\r\n${APIGW}content-length: 100000\r\n\r\n{"a":`);
        trickle(s, "1".repeat(1000));
      }),
    );
    const http = find(r, "http");
    expect(http.code).toBe("HTTP_TIMEOUT");
    expect(http.evidence).toMatchObject({ status: 200, bodyIncomplete: true });
    expect(http.message).toMatch(/200.*body stalled after \d+ bytes/);
  });

  it("reads at most 64 KiB of an endless body, and says it truncated it", async () => {
    const r = await diagnosePeer(
      await tlsPeer(DEFAULT_ENDPOINT, (s) => {
        s.write(`HTTP/1.1 200 OK\r\n${APIGW}transfer-encoding: chunked\r\n\r\n`);
        flood(s, `4000\r\n${"x".repeat(0x4000)}\r\n`);
      }),
    );
    const http = find(r, "http");
    expect(http.code).toBe("HTTP_OK");
    expect(http.evidence).toMatchObject({ bodyTruncated: true, bodyBytes: 64 * 1024 });
    expect(http.message).toMatch(/body truncated: read the first 65536 bytes only/);
  });

  it("reads at most 64 KiB of a huge declared body, and says it truncated it", async () => {
    const r = await diagnosePeer(
      await tlsPeer(DEFAULT_ENDPOINT, (s) => {
        s.write(`HTTP/1.1 403 Forbidden\r\n${APIGW}content-length: 1000000000\r\n\r\n`);
        flood(s, "y".repeat(65_536));
      }),
    );
    const http = find(r, "http");
    expect(http.evidence).toMatchObject({ status: 403, bodyTruncated: true, bodyBytes: 65_536 });
    expect(http.message).toContain("body truncated");
  });

  it("refuses endless headers at the parser's limit instead of reading them", async () => {
    const r = await diagnosePeer(
      await tlsPeer(DEFAULT_ENDPOINT, (s) => {
        s.write(`HTTP/1.1 200 OK\r\n${APIGW}`);
        flood(s, `x-filler: ${"z".repeat(1000)}\r\n`);
      }),
    );
    const http = find(r, "http");
    expect(http.status).toBe("fail");
    expect(http.evidence.status).toBeUndefined();
    expect(http.message).toMatch(/UND_ERR_HEADERS_OVERFLOW/);
  });

  it("classifies a connection closed in the middle of the headers as HTTP_RESET", async () => {
    const r = await diagnosePeer(
      await tlsPeer(DEFAULT_ENDPOINT, (s) => s.end("HTTP/1.1 200 OK\r\nx-amzn-Req")),
    );
    const http = find(r, "http");
    // No status was parsed: the peer closed after the request, as far as the client can tell.
    expect(http.code).toBe("HTTP_RESET");
    expect(http.status).toBe("fail");
    expect(http.evidence).toMatchObject({ errorCode: "UND_ERR_SOCKET", connectionLost: "closed" });
  });

  it("classifies a connection closed right after the request, with no answer, as HTTP_RESET", async () => {
    const r = await diagnosePeer(await tlsPeer(DEFAULT_ENDPOINT, (s) => s.end()));
    const http = find(r, "http");
    expect(http.code).toBe("HTTP_RESET");
    expect(http.evidence.connectionLost).toBe("closed");
    expect(http.evidence.status).toBeUndefined();
    expect(http.message).toMatch(/closed by the peer after the request, no status/);
  });

  it("does not call a 200 whose body the peer cuts off HTTP_OK", async () => {
    const r = await diagnosePeer(
      await tlsPeer(DEFAULT_ENDPOINT, (s) =>
        s.end(`HTTP/1.1 200 OK\r\n${APIGW}content-length: 1000\r\n\r\n{"partial":`),
      ),
    );
    const http = find(r, "http");
    expect(http.code).toBe("HTTP_UNEXPECTED_STATUS");
    expect(http.evidence).toMatchObject({ status: 200, bodyIncomplete: true });
    expect(http.message).toMatch(/body cut off after 11 bytes/);
  });

  it("classifies an HTTP/1.0 answer without API Gateway's headers as HTTP_NOT_API_GATEWAY", async () => {
    const r = await diagnosePeer(
      await tlsPeer(DEFAULT_ENDPOINT, (s) =>
        s.end("HTTP/1.0 200 OK\r\ncontent-type: text/html\r\n\r\n<html>proxy</html>"),
      ),
    );
    expect(find(r, "http").code).toBe("HTTP_NOT_API_GATEWAY");
    expect(find(r, "http").evidence.status).toBe(200);
  });

  it("classifies bytes that are not HTTP as HTTP_NOT_API_GATEWAY", async () => {
    const r = await diagnosePeer(
      await tlsPeer(DEFAULT_ENDPOINT, (s) => s.end("SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02")),
    );
    expect(find(r, "http").code).toBe("HTTP_NOT_API_GATEWAY");
  });

  it("classifies a reset right after the request as HTTP_RESET, with support evidence", async () => {
    const peer = await tlsPeer(DEFAULT_ENDPOINT, (_s, _req, raw) => raw.resetAndDestroy());
    const r = await diagnosePeer(peer);
    const http = find(r, "http");
    expect(http.code).toBe("HTTP_RESET");
    expect(http.evidence.errorCode).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
    expect(http.evidence.connectionLost).toMatch(/^(reset|closed)$/);
    expect(http.evidence).toMatchObject({
      sni: DEFAULT_ENDPOINT,
      host: `${DEFAULT_ENDPOINT}:${peer.port}`,
      tlsVersion: expect.stringMatching(/^TLSv1\.[23]$/),
      tlsCipher: expect.any(String),
    });
    expect(Date.parse(http.evidence.requestedAt ?? "")).not.toBeNaN();
  });

  it("sends the request line and headers it means to, and nothing else", async () => {
    let request = "";
    const r = await diagnosePeer(
      await tlsPeer(DEFAULT_ENDPOINT, (s, req) => {
        request = req;
        s.end(`HTTP/1.1 200 OK\r\n${APIGW}content-length: 2\r\n\r\n{}`);
      }),
    );
    expect(find(r, "http").code).toBe("HTTP_OK");
    expect(request.split("\r\n")[0]).toBe("GET /prod/ HTTP/1.1");
    expect(request).toContain(`x-apigw-api-id: ${DEFAULT_API_ID}`);
  });
});
