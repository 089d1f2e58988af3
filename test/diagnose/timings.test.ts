// Phase timings are the network's: the tool's own work (loading undici, compiling its parser, a
// busy event loop before the request is written) is never reported as time to first byte.
// No assertion here is a bound on speed: each compares the client's figure with moments the
// server saw, which the client's request and close must fall between, whatever the load.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeHttp } from "../../src/probes/http.js";
import { probeTcp } from "../../src/probes/tcp.js";
import { probeTls } from "../../src/probes/tls.js";
import { DEFAULT_API_ID, DEFAULT_ENDPOINT } from "../../src/simulator/index.js";
import type { Report } from "../../src/types.js";
import { cli } from "../run-cli.js";
import { addressReply, dnsPeer, tlsPeer, type Peer } from "../hostile/servers.js";

const RESPONSE =
  "HTTP/1.1 200 OK\r\nx-amzn-RequestId: 11111111-2222-3333-4444-555555555555\r\n" +
  "content-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
/** A clock both processes share: epoch milliseconds with sub-millisecond resolution. */
const now = () => performance.timeOrigin + performance.now();

interface Seen {
  /** The request's first bytes arrived. */
  received: number;
  /** The client closed the connection (after it had read the whole response). */
  closed: number;
}

let dns: Peer;
let server: Peer;
let dir: string;
let caFile: string;
const seen: Seen[] = [];

beforeAll(async () => {
  dns = await dnsPeer((q, reply) => reply(addressReply(q, ["127.0.0.1"])));
  server = await tlsPeer(DEFAULT_ENDPOINT, (socket, _request, raw) => {
    const s: Seen = { received: now(), closed: NaN };
    seen.push(s);
    raw.once("close", () => (s.closed = now()));
    socket.write(RESPONSE);
  });
  dir = mkdtempSync(join(tmpdir(), "apigw-diag-timings-"));
  caFile = join(dir, "ca.pem");
  writeFileSync(caFile, (server as Peer & { caPem: string }).caPem);
});
afterAll(async () => {
  await Promise.all([dns.close(), server.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("time to first byte", () => {
  it("in a cold one-shot diagnose, starts when the request is sent, not before undici loads", async () => {
    seen.length = 0;
    const r = await cli([
      "diagnose",
      ...["--endpoint", DEFAULT_ENDPOINT, "--api-id", DEFAULT_API_ID, "--stage", "prod"],
      ...["--resolver", `127.0.0.1:${dns.port}`, "--port", String(server.port)],
      ...["--ca-file", caFile, "--private-cidr", "127.0.0.0/8", "--format", "json"],
      ...["--log-level", "silent", "--timeout", "10s"],
    ]);
    expect(r.stderr).toBe("");
    const report = JSON.parse(r.stdout) as Report;
    const http = report.targets[0]?.findings.find((f) => f.layer === "http");
    expect(http?.code).toBe("HTTP_OK");
    expect(seen).toHaveLength(1);
    const [s] = seen as [Seen];
    await until(() => !Number.isNaN(s.closed));
    // The client wrote its request before the server received it, and read the response before it
    // closed the connection: its time to first byte lies within what the server saw. A clock
    // started before undici was loaded (60-90 ms here) overshoots that by the load; 5 ms allows
    // for the two processes' clocks not being read at exactly the same instant.
    expect(http?.timings.ttfb).toBeLessThanOrEqual(s.closed - s.received + 5);
  });

  it("excludes what the client does on its own between connecting and writing the request", async () => {
    seen.length = 0;
    const socket = await connect();
    // Stands for anything undici or the event loop does before the first byte goes out: the
    // subscriber runs synchronously once the connection is handed to undici.
    let workDone = NaN;
    const busy = () => {
      const until = performance.now() + 300;
      while (performance.now() < until);
      workDone = performance.now();
    };
    subscribe("undici:client:connected", busy);
    try {
      const o = await probeHttp(
        { signal: new AbortController().signal, timeoutMs: 10_000 },
        {
          socket,
          host: DEFAULT_ENDPOINT,
          port: server.port,
          path: "/prod/",
          headers: { "x-apigw-api-id": DEFAULT_API_ID },
          maxBodyBytes: 1024,
        },
      );
      const returned = performance.now();
      expect(o.status).toBe(200);
      expect(workDone).not.toBeNaN(); // the 300 ms of work did happen inside the probe
      // The first byte arrived after the work, and before the probe returned; the 0.1 ms is
      // the probe's rounding.
      expect(o.ttfbMs).toBeLessThanOrEqual(returned - workDone + 0.1);
      expect(o.totalMs).toBeLessThanOrEqual(returned - workDone + 0.1);
    } finally {
      unsubscribe("undici:client:connected", busy);
    }
  });
});

async function connect(): Promise<tls.TLSSocket> {
  const ctx = { signal: new AbortController().signal, timeoutMs: 10_000 };
  const tcp = await probeTcp(ctx, { address: "127.0.0.1", port: server.port });
  if (!tcp.socket) throw new Error(`no connection: ${tcp.observation.errno}`);
  const secureContext = tls.createSecureContext({
    ca: (server as Peer & { caPem: string }).caPem,
  });
  const t = await probeTls(ctx, {
    socket: tcp.socket,
    servername: DEFAULT_ENDPOINT,
    secureContext,
  });
  if (!t.socket || t.observation.authorizationError)
    throw new Error(`no TLS: ${t.observation.errorCode}`);
  return t.socket;
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
}
