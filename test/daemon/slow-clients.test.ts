// Slow and idle clients cannot lock the daemon's door. 200 sockets from one address (loopback)
// each send half a request line (or half a TLS hello) and hold it, reconnecting a second after the
// daemon drops them; meanwhile /healthz and /metrics must be answered within a second, every
// second, for 10 s. The bound IS the behaviour here, asserted with a 2x margin (500 ms).
import http from "node:http";
import https from "node:https";
import net from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVER_LIMITS, startStatusServer, type Endpoints } from "../../src/daemon/server.js";
import { loadWebConfig } from "../../src/daemon/web-config.js";
import { doorPki, htpasswdHash, type DoorPki } from "./door-certs.js";

const SLOW_SOCKETS = 200;
const SECONDS = 10;
const FIGURE_MS = 1_000;
const ASSERTED_MS = FIGURE_MS / 2;

const endpoints: Endpoints = {
  metrics: async () => ({ contentType: "text/plain; version=0.0.4", body: ["up 1\n"] }),
  health: () => ({ ok: true, detail: {} }),
  report: () => ({}),
  status: async () => "<p>status</p>",
  probe: async () => ({ status: 200, contentType: "text/plain", body: "probe\n" }),
};

/** Keeps `count` sockets open that each sent `half` and nothing more; reopens the dropped. */
function slowClients(port: number, count: number, half: Buffer) {
  const open = new Set<net.Socket>();
  let stopped = false;
  let dropped = 0;
  const timers = new Set<NodeJS.Timeout>();
  const connect = () => {
    if (stopped) return;
    const socket = net.connect(port, "127.0.0.1", () => socket.write(half));
    open.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => {
      open.delete(socket);
      if (stopped) return;
      dropped++;
      // The reconnecting client of the issue, only quicker: a second after being dropped.
      const timer = setTimeout(() => {
        timers.delete(timer);
        connect();
      }, 1_000);
      timers.add(timer);
    });
  };
  for (let i = 0; i < count; i++) connect();
  return {
    open: () => open.size,
    dropped: () => dropped,
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      for (const s of open) s.destroy();
    },
  };
}

type Get = (path: string) => Promise<number>;

function plainGet(port: number): Get {
  return (path) =>
    new Promise((resolve, reject) => {
      const req = http.get(
        { host: "127.0.0.1", port, path, agent: false, timeout: 5_000 },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
    });
}

function tlsGet(port: number, ca: string, auth: string): Get {
  return (path) =>
    new Promise((resolve, reject) => {
      const req = https.get(
        {
          host: "127.0.0.1",
          servername: "localhost",
          port,
          path,
          ca,
          agent: false,
          timeout: 5_000,
          headers: { authorization: `Basic ${Buffer.from(auth).toString("base64")}` },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
    });
}

/** Every second for SECONDS: /healthz and /metrics, each timed. */
async function scrapeEverySecond(
  get: Get,
): Promise<{ path: string; status: number; ms: number }[]> {
  const results: { path: string; status: number; ms: number }[] = [];
  for (let s = 0; s < SECONDS; s++) {
    const tick = Date.now();
    for (const path of ["/healthz", "/metrics"]) {
      const started = performance.now();
      const status = await get(path).catch(() => 0);
      results.push({ path, status, ms: performance.now() - started });
    }
    await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (Date.now() - tick))));
  }
  return results;
}

let pki: DoorPki;
beforeAll(() => {
  pki = doorPki();
});
afterAll(() => pki.remove());

describe("slow clients from one address", () => {
  it.each([
    {
      name: "plain HTTP, half a request line",
      web: undefined as string | undefined,
      half: Buffer.from("GET /metr"),
    },
    {
      name: "TLS with basic auth, half a TLS hello",
      web: `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: ${htpasswdHash("s3cret")}\n`,
      half: Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]),
    },
  ])(
    "never keep /healthz and /metrics from an answer within a second ($name)",
    async ({ web, half }) => {
      const webConfig = web ? await loadWebConfig(pki.write("slow.yml", web)) : undefined;
      const server = await startStatusServer(
        { host: "127.0.0.1", port: 0 },
        endpoints,
        pino({ level: "silent" }),
        webConfig,
      );
      const get = webConfig
        ? tlsGet(server.port, pki.caPem, "prometheus:s3cret")
        : plainGet(server.port);
      if (webConfig) expect(await get("/healthz")).toBe(200); // bcrypt paid once, as Prometheus would
      const slow = slowClients(server.port, SLOW_SOCKETS, half);
      try {
        await new Promise((r) => setTimeout(r, 500));
        const results = await scrapeEverySecond(get);
        const worst = Math.max(...results.map((r) => r.ms));
        console.info(
          `slow clients (${web ? "tls" : "plain"}): ${results.length} answers, worst ${worst.toFixed(1)} ms, ${slow.dropped()} slow sockets dropped, ${slow.open()} open`,
        );
        expect(results).toHaveLength(2 * SECONDS);
        for (const r of results) {
          expect(r.status, r.path).toBe(200);
          expect(r.ms, r.path).toBeLessThan(ASSERTED_MS);
        }
        // Memory stays bounded: the daemon holds no more than its share for one address.
        expect(slow.dropped()).toBeGreaterThanOrEqual(
          SLOW_SOCKETS - SERVER_LIMITS.connectionsPerAddress,
        );
      } finally {
        slow.stop();
        await server.close();
      }
    },
    60_000,
  );
});
