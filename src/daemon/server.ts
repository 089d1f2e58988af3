// The daemon's HTTP side: the status page, /metrics, /probe, /healthz, /report, nothing else. It
// never reads a request body and bounds every connection, so a scanner or a stuck client cannot
// hold it up. The web config (web-config.ts) puts TLS, basic auth and headers on every path.
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import { UsageError } from "../types.js";
import { BasicAuth } from "./basic-auth.js";
import { ConnectionGuard } from "./connections.js";
import { SCRAPE_TIMEOUT_HEADER, type ProbeRequest } from "./probe.js";
import type { WebConfig, WebTls } from "./web-config.js";

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
  /** "http" or "https", as the web config decided at start. */
  scheme: "http" | "https";
  /**
   * Applies a reloaded web config to the connections and requests that come next. Throws a
   * UsageError, the current one kept, for a change that takes a restart (TLS on or off, the
   * client certificate policy).
   */
  setWebConfig(web: WebConfig | undefined): void;
  close(): Promise<void>;
}

export const SERVER_LIMITS = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleSocketMs: 15_000,
  timeoutCheckMs: 1_000,
  maxHeaderBytes: 8_192,
  /** Connections one address (an IPv6 /64) holds; a newcomer evicts its least useful one. */
  connectionsPerAddress: 32,
  /** Connections held at once; a newcomer evicts one of the address holding the most. */
  connectionsTotal: 256,
  maxRequestsPerSocket: 100,
};

/** A string is sent with its length; pieces are sent chunked, each when the socket takes it. */
export type Reply = {
  status: number;
  contentType: string;
  body: string | Iterable<string>;
  /** 401: ask for basic auth. */
  challenge?: boolean;
  retryAfter?: number;
};

const PATHS = ["/", "/metrics", "/probe", "/healthz", "/report"];

/** The page runs no script and loads nothing: even a missed escape could not execute. */
const PAGE_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export async function startStatusServer(
  listen: { host: string; port: number },
  endpoints: Endpoints,
  log: Logger,
  web?: WebConfig,
): Promise<StatusServer> {
  let door = doorOf(web);
  const options: http.ServerOptions = {
    maxHeaderSize: SERVER_LIMITS.maxHeaderBytes,
    headersTimeout: SERVER_LIMITS.headersTimeoutMs,
    requestTimeout: SERVER_LIMITS.requestTimeoutMs,
    keepAliveTimeout: SERVER_LIMITS.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (30 s by default).
    connectionsCheckingInterval: SERVER_LIMITS.timeoutCheckMs,
  };
  const tls = web?.tls;
  const server = tls
    ? https.createServer({ ...options, ...tlsOptions(tls) })
    : http.createServer(options);
  const guard = new ConnectionGuard({
    perAddress: SERVER_LIMITS.connectionsPerAddress,
    total: SERVER_LIMITS.connectionsTotal,
  });
  // Before the server's own listener reads a byte: eviction happens as a connection arrives.
  server.prependListener("connection", (socket: Socket) => guard.admit(socket));
  if (tls) {
    server.on("secureConnection", (socket: TLSSocket) => {
      guard.attach(socket);
      const refused = clientCertRefusal(socket, door.tls ?? tls);
      if (refused) {
        log.debug({ event: "tls_client_refused", reason: refused }, "client certificate refused");
        socket.destroy();
      }
    });
    server.on("tlsClientError", (err: Error) =>
      log.debug({ event: "tls_client_error", reason: err.message }, "TLS handshake failed"),
    );
  }
  server.maxRequestsPerSocket = SERVER_LIMITS.maxRequestsPerSocket;
  server.setTimeout(SERVER_LIMITS.idleSocketMs, (socket) => socket.destroy());
  server.on("request", (req, res) => {
    guard.started(req.socket);
    res.once("close", () => guard.finished(req.socket));
    // A body is never read: close the connection after the answer instead of draining it.
    if (req.headers["content-length"] ?? req.headers["transfer-encoding"])
      res.shouldKeepAlive = false;
    const gone = new AbortController();
    res.once("close", () => gone.abort());
    const current = door;
    admitted(req, current)
      .then((refusal) => refusal ?? route(req, endpoints, gone.signal))
      .then((reply) => send(req, res, reply, current.headers))
      .catch((err: unknown) => {
        log.error({ event: "http_error", err, path: pathOf(req) }, "status server error");
        // Part of the answer is out: cut it short rather than end it as if it were whole.
        if (res.headersSent) res.destroy();
        else void send(req, res, text(500, "internal error\n"), current.headers);
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
    scheme: tls ? "https" : "http",
    setWebConfig(next) {
      const why = restartNeeded(web, next);
      if (why) throw new UsageError(`web config: ${why} changes only with a restart`);
      if (tls && next?.tls) (server as https.Server).setSecureContext(next.tls.context);
      door = doorOf(next);
      web = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What a request meets at the door: the web config's headers, rate, users. */
interface Door {
  headers: [string, string][];
  tls?: WebTls;
  auth?: BasicAuth;
  excludedPaths: string[];
  bucket?: TokenBucket;
}

function doorOf(web: WebConfig | undefined): Door {
  const auth = web && web.users.size > 0 ? new BasicAuth(web.users) : undefined;
  return {
    headers: web?.headers ?? [],
    tls: web?.tls,
    auth,
    excludedPaths: web?.excludedPaths ?? [],
    bucket: web?.rateLimit && new TokenBucket(web.rateLimit.intervalMs, web.rateLimit.burst),
  };
}

/** An answer for a request that may not pass (429, 401), or undefined. */
async function admitted(req: http.IncomingMessage, door: Door): Promise<Reply | undefined> {
  if (door.bucket && !door.bucket.take()) return text(429, "Too Many Requests\n");
  if (!door.auth || door.excludedPaths.includes(pathOf(req))) return undefined;
  const outcome = await door.auth.check(req.headers.authorization);
  if (outcome === "ok") return undefined;
  // Many passwords are waiting for a bcrypt: come back, rather than queue without bound.
  if (outcome === "busy") return { ...text(429, "Too Many Requests\n"), retryAfter: 1 };
  return { ...text(401, "Unauthorized\n"), challenge: true };
}

function tlsOptions(tls: WebTls): https.ServerOptions {
  return {
    ...tls.context,
    // Asked for whenever the policy looks at one; checked below for the policies OpenSSL's
    // verification alone does not express.
    requestCert: tls.clientAuth !== "NoClientCert",
    rejectUnauthorized: tls.clientAuth === "RequireAndVerifyClientCert",
    handshakeTimeout: SERVER_LIMITS.headersTimeoutMs,
  };
}

/** Why a client's certificate does not meet the policy, or undefined when it does. */
function clientCertRefusal(socket: TLSSocket, tls: WebTls): string | undefined {
  const cert = tls.clientAuth === "NoClientCert" ? undefined : socket.getPeerCertificate();
  const given = cert !== undefined && Object.keys(cert).length > 0;
  if (tls.clientAuth === "RequireAnyClientCert" && !given) return "no client certificate";
  if (tls.clientAuth === "VerifyClientCertIfGiven" && given && !socket.authorized)
    return `client certificate not verified (${String(socket.authorizationError)})`;
  if (tls.allowedSans) {
    const sans = (cert?.subjectaltname ?? "")
      .split(/,\s*/)
      .map((entry) => entry.slice(entry.indexOf(":") + 1));
    if (!sans.some((san) => tls.allowedSans!.includes(san))) return "no allowed SAN";
  }
  return undefined;
}

function restartNeeded(
  before: WebConfig | undefined,
  after: WebConfig | undefined,
): string | undefined {
  if (!before?.tls !== !after?.tls) return "TLS on or off";
  if (before?.tls && after?.tls && before.tls.clientAuth !== after.tls.clientAuth)
    return "client_auth_type";
  return undefined;
}

/** exporter-toolkit's rate_limit: a token every interval, up to `burst` saved. */
class TokenBucket {
  private tokens: number;
  private last = Date.now();
  constructor(
    private readonly intervalMs: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }
  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) / this.intervalMs);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
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
  extra: [string, string][],
): Promise<void> {
  const { body } = reply;
  if (typeof body === "string") {
    setHeaders(res, reply, extra);
    res.setHeader("content-length", Buffer.byteLength(body));
    res.end(req.method === "HEAD" ? undefined : body);
    return;
  }
  const pieces = body[Symbol.iterator]();
  try {
    // The first piece before any header: should it fail, the answer can still be a 500.
    let next = req.method === "HEAD" ? undefined : pieces.next();
    setHeaders(res, reply, extra);
    for (; next && !next.done; next = pieces.next()) {
      if (res.destroyed) return;
      if (!res.write(next.value)) await drained(res);
    }
    if (!res.destroyed) res.end();
  } finally {
    pieces.return?.();
  }
}

function setHeaders(res: http.ServerResponse, reply: Reply, extra: [string, string][]): void {
  // The web config's first: they add to the page's own policy (a browser enforces both), never
  // replace it.
  for (const [name, value] of extra) res.setHeader(name, value);
  res.statusCode = reply.status;
  res.setHeader("content-type", reply.contentType);
  res.setHeader("cache-control", "no-store");
  res.setHeader("x-content-type-options", "nosniff");
  if (reply.contentType.startsWith("text/html")) {
    const operator = res.getHeader("content-security-policy");
    res.setHeader(
      "content-security-policy",
      typeof operator === "string" ? [operator, PAGE_POLICY] : PAGE_POLICY,
    );
  }
  if (reply.status === 405) res.setHeader("allow", "GET, HEAD");
  if (reply.challenge) res.setHeader("www-authenticate", 'Basic realm="apigw-diag"');
  if (reply.retryAfter !== undefined) res.setHeader("retry-after", String(reply.retryAfter));
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
