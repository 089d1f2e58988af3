// The daemon's HTTP side: the status page, /metrics, /probe, /healthz, /report, nothing else. It
// never reads a request body and bounds every connection, so a scanner or a stuck client cannot
// hold it up.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { SCRAPE_TIMEOUT_HEADER, type ProbeRequest } from "./probe.js";

export interface Endpoints {
  /** The body is written piece by piece as it is iterated (src/daemon/exposition.ts). */
  metrics(): Promise<{ contentType: string; body: Iterable<string> }>;
  health(): { ok: boolean; detail: Record<string, unknown> };
  report(): unknown;
  /** The status page's HTML. */
  status(): Promise<string>;
  probe(req: ProbeRequest): Promise<Reply>;
}

export interface StatusServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

export const SERVER_LIMITS = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleSocketMs: 15_000,
  timeoutCheckMs: 1_000,
  maxHeaderBytes: 8_192,
  maxConnections: 64,
  maxRequestsPerSocket: 100,
};

/** A string is sent with its length; pieces are sent chunked, each when the socket takes it. */
export type Reply = { status: number; contentType: string; body: string | Iterable<string> };

const PATHS = ["/", "/metrics", "/probe", "/healthz", "/report"];

/** The page runs no script and loads nothing: even a missed escape could not execute. */
const PAGE_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export async function startStatusServer(
  listen: { host: string; port: number },
  endpoints: Endpoints,
  log: Logger,
): Promise<StatusServer> {
  const server = http.createServer({
    maxHeaderSize: SERVER_LIMITS.maxHeaderBytes,
    headersTimeout: SERVER_LIMITS.headersTimeoutMs,
    requestTimeout: SERVER_LIMITS.requestTimeoutMs,
    keepAliveTimeout: SERVER_LIMITS.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (30 s by default).
    connectionsCheckingInterval: SERVER_LIMITS.timeoutCheckMs,
  });
  server.maxConnections = SERVER_LIMITS.maxConnections;
  server.maxRequestsPerSocket = SERVER_LIMITS.maxRequestsPerSocket;
  server.setTimeout(SERVER_LIMITS.idleSocketMs, (socket) => socket.destroy());
  server.on("request", (req, res) => {
    // A body is never read: close the connection after the answer instead of draining it.
    if (req.headers["content-length"] ?? req.headers["transfer-encoding"])
      res.shouldKeepAlive = false;
    const gone = new AbortController();
    res.once("close", () => gone.abort());
    route(req, endpoints, gone.signal)
      .then((reply) => send(req, res, reply))
      .catch((err: unknown) => {
        log.error({ event: "http_error", err, path: pathOf(req) }, "status server error");
        // Part of the answer is out: cut it short rather than end it as if it were whole.
        if (res.headersSent) res.destroy();
        else void send(req, res, text(500, "internal error\n"));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => log.error({ event: "http_error", err }, "status server error"));
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(
  req: http.IncomingMessage,
  endpoints: Endpoints,
  gone: AbortSignal,
): Promise<Reply> {
  const path = pathOf(req);
  if (!PATHS.includes(path)) return text(404, `not found: try ${PATHS.join(", ")}\n`);
  if (req.method !== "GET" && req.method !== "HEAD") return text(405, "only GET and HEAD\n");
  switch (path) {
    case "/":
      return {
        status: 200,
        contentType: "text/html; charset=utf-8",
        body: await endpoints.status(),
      };
    case "/metrics": {
      const { contentType, body } = await endpoints.metrics();
      return { status: 200, contentType, body };
    }
    case "/probe": {
      // A probe is bounded by its own deadline (the scrape timeout), which may outlast the idle
      // socket timeout; keep-alive timing takes over again once it has answered.
      req.socket.setTimeout(0);
      const header = req.headers[SCRAPE_TIMEOUT_HEADER];
      const scrapeTimeout = Array.isArray(header) ? header[0] : header;
      return endpoints.probe({ query: queryOf(req), scrapeTimeout, signal: gone });
    }
    case "/healthz": {
      const { ok, detail } = endpoints.health();
      return json(ok ? 200 : 503, { status: ok ? "ok" : "stalled", ...detail });
    }
    default:
      return json(200, endpoints.report());
  }
}

function queryOf(req: http.IncomingMessage): URLSearchParams {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
}

function pathOf(req: http.IncomingMessage): string {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

const text = (status: number, body: string): Reply => ({
  status,
  contentType: "text/plain; charset=utf-8",
  body,
});

const json = (status: number, value: unknown): Reply => ({
  status,
  contentType: "application/json; charset=utf-8",
  body: `${JSON.stringify(value)}\n`,
});

async function send(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  reply: Reply,
): Promise<void> {
  const { body } = reply;
  if (typeof body === "string") {
    setHeaders(res, reply);
    res.setHeader("content-length", Buffer.byteLength(body));
    res.end(req.method === "HEAD" ? undefined : body);
    return;
  }
  const pieces = body[Symbol.iterator]();
  try {
    // The first piece before any header: should it fail, the answer can still be a 500.
    let next = req.method === "HEAD" ? undefined : pieces.next();
    setHeaders(res, reply);
    for (; next && !next.done; next = pieces.next()) {
      if (res.destroyed) return;
      if (!res.write(next.value)) await drained(res);
    }
    if (!res.destroyed) res.end();
  } finally {
    pieces.return?.();
  }
}

function setHeaders(res: http.ServerResponse, reply: Reply): void {
  res.statusCode = reply.status;
  res.setHeader("content-type", reply.contentType);
  res.setHeader("cache-control", "no-store");
  res.setHeader("x-content-type-options", "nosniff");
  if (reply.contentType.startsWith("text/html"))
    res.setHeader("content-security-policy", PAGE_POLICY);
  if (reply.status === 405) res.setHeader("allow", "GET, HEAD");
}

/** Until the socket takes more, or the client has gone (then `res.destroyed`). */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
