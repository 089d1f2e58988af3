// The interface endpoint's HTTPS side: one TCP listener per endpoint address (one per AZ), all on
// the same port, answering like API Gateway. Each connection goes through three stages we own
// (TCP accept, TLS, HTTP) so a per-address fault can break exactly one of them.

import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import type { SimulatorCerts } from "./certs.js";
import type { AddressFault, FaultState, StageBehaviour } from "./faults.js";

const BIND_ATTEMPTS = 5;
// Not HTTP, not TLS: what a confused middlebox or a non-HTTP service would send back.
const GARBAGE = Buffer.from(
  "\u0000\u0017\u00fe\u00fdSSH-2.0-OpenSSH_9.6\r\n\u0000\u0000",
  "latin1",
);

/** The names one API answers to, as `startSimulator` derives them from the endpoint. */
export interface ApiIdentity {
  endpoint: string;
  apiId: string;
  region: string;
  apiHost: string;
  aliasHost: string;
  /**
   * STRICT endpoint access mode (an enhanced security policy, SecurityPolicy_TLS13_*): AWS
   * documents that the request must come through the API's own endpoint type and that SNI must
   * match Host; for private APIs that leaves the private DNS name and custom domain names, not
   * the vpce name with x-apigw-api-id. AWS does not document the refusal's shape: this simulator
   * answers its generic 403 ForbiddenException, and the tool never relies on the text.
   */
  strict?: boolean;
  /**
   * The STRICT refusal's status: 403 Forbidden, or 421 Misdirected Request, which is what
   * CloudFront's domain-fronting protection answers (AWS says STRICT on edge-optimized APIs
   * follows it). Either is a guess at an undocumented shape: the tool compares modes instead.
   */
  strictRefusal?: StrictRefusal;
}

export type StrictRefusal = 403 | 421;

/** A private custom domain name served through this endpoint. */
export interface CustomDomain {
  name: string;
  /** A domain name access association with this VPC endpoint exists (and is ready). */
  associated: boolean;
  /** Base path ("" for the root) -> stage of the simulated API. */
  basePaths: Record<string, string>;
  /**
   * The domain's own resource policy (`policy`, for execute-api): "deny-all" is what a new
   * private custom domain name has until the provider writes one. Default: allows.
   */
  policy?: "allow" | "deny-all";
}

export interface ApiRequest {
  method: string;
  url: string;
  host: string | undefined;
  apiIdHeader: string | undefined;
  /** The TLS SNI the client sent (undefined: none, or not known). */
  servername?: string;
}

/** Everything one endpoint serves besides its first API: more APIs, custom domain names. */
export interface Served {
  apis?: ApiIdentity[];
  domains?: CustomDomain[];
  /** disableExecuteApiEndpoint: only custom domain names answer; the API's own names get 403. */
  defaultEndpointDisabled?: boolean;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface ApiError {
  status: number;
  errorType: string;
  body: string;
}

const FORBIDDEN: ApiError = {
  status: 403,
  errorType: "ForbiddenException",
  body: '{"message":"Forbidden"}',
};
const MISSING_TOKEN: ApiError = {
  status: 403,
  errorType: "MissingAuthenticationTokenException",
  body: '{"message":"Missing Authentication Token"}',
};
// Not documented for STRICT: what CloudFront's domain-fronting protection answers.
const MISDIRECTED: ApiError = {
  status: 421,
  errorType: "",
  body: '{"message":"Misdirected Request"}',
};

/**
 * A domain's deny-all `policy`: composed from AWS's documented AccessDenied wording and the
 * domain's ARN form (arn:aws:execute-api:REGION:ACCOUNT:/domainnames/NAME+ID); no public capture.
 */
function domainDenied(domain: CustomDomain, region: string): ApiError {
  const resource = `arn:aws:execute-api:${region}:********1234:/domainnames/${domain.name}+a1b2c3`;
  const message = `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${resource} with an explicit deny`;
  return {
    status: 403,
    errorType: "AccessDeniedException",
    body: JSON.stringify({ Message: message }),
  };
}

// Worded as the real answers in test/fixtures/apigw/: no Allow in the captured 2024 form (no
// policy named), a Deny in the newer form that names the resource policy.
function policyError(api: ApiIdentity, stage: string, explicitDeny: boolean): ApiError {
  const resource = `arn:aws:execute-api:${api.region}:********1234:${api.apiId}/${stage}/GET/`;
  const suffix = explicitDeny ? " with an explicit deny in a resource-based policy" : "";
  const message = `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${resource}${suffix}`;
  return {
    status: 403,
    errorType: "AccessDeniedException",
    body: JSON.stringify({ Message: message }),
  };
}

const SIMPLE_ERRORS: Partial<Record<StageBehaviour, ApiError>> = {
  forbidden: FORBIDDEN,
  "missing-token": MISSING_TOKEN,
  unauthorized: {
    status: 401,
    errorType: "UnauthorizedException",
    body: '{"message":"Unauthorized"}',
  },
  throttled: {
    status: 429,
    errorType: "TooManyRequestsException",
    body: '{"message":"Too Many Requests"}',
  },
  "missing-token-404": { ...MISSING_TOKEN, status: 404 },
  // The space after the colon is API Gateway's own.
  "backend-error": {
    status: 502,
    errorType: "InternalServerErrorException",
    body: '{"message": "Internal server error"}',
  },
};

// Headers every API Gateway response carries: what tells the client it reached the real thing.
function gatewayHeaders(): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-amzn-RequestId": randomUUID(),
    "x-amz-apigw-id": randomBytes(11).toString("base64"),
  };
}

function errorReply(error: ApiError): Reply {
  // No error type is known for some refusals (421): none is made up.
  const type: Record<string, string> = error.errorType
    ? { "x-amzn-ErrorType": error.errorType }
    : {};
  const headers = { ...gatewayHeaders(), ...type };
  return { status: error.status, headers, body: error.body };
}

function stripPort(host: string): string {
  return host.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
}

// Header mode needs the endpoint name plus the API id; the API's own names need nothing more.
function selectsApi(req: ApiRequest, api: ApiIdentity): boolean {
  const host = stripPort(req.host ?? "");
  if (host === api.apiHost.toLowerCase() || host === api.aliasHost.toLowerCase()) return true;
  return host === api.endpoint.toLowerCase() && req.apiIdHeader === api.apiId;
}

/** STRICT refuses header mode (Host is the vpce name) and any SNI that is not the Host. */
function strictRefuses(req: ApiRequest, api: ApiIdentity): boolean {
  if (!api.strict) return false;
  const host = stripPort(req.host ?? "");
  return host === api.endpoint.toLowerCase() || (req.servername ?? "").toLowerCase() !== host;
}

function domainReply(
  req: ApiRequest,
  domain: CustomDomain,
  api: ApiIdentity,
  stages: Record<string, StageBehaviour>,
): Reply {
  // Undocumented shape, as for STRICT: without an association (or a mapping) the simulator
  // answers API Gateway's generic 403 Forbidden.
  if (!domain.associated) return errorReply(FORBIDDEN);
  if (domain.policy === "deny-all") return errorReply(domainDenied(domain, api.region));
  const path = req.url.split("?")[0] ?? "";
  const bases = Object.keys(domain.basePaths).sort((a, b) => b.length - a.length);
  const base = bases.find((b) => b === "" || path === `/${b}` || path.startsWith(`/${b}/`));
  if (base === undefined) return errorReply(FORBIDDEN);
  const stage = domain.basePaths[base] ?? "";
  const rest = path.slice(base === "" ? 0 : base.length + 1);
  const mapped = {
    ...req,
    host: api.apiHost,
    servername: api.apiHost,
    url: `/${stage}${rest || "/"}`,
  };
  return apiGatewayReply(mapped, api, stages);
}

function splitPath(url: string): { stage: string; rest: string } {
  const path = url.split("?")[0] ?? "";
  const match = /^\/([^/]*)(.*)$/.exec(path);
  return { stage: match?.[1] ?? "", rest: match?.[2] ?? "" };
}

/** What API Gateway answers to one request: the one resource is GET /<stage>/. */
export function apiGatewayReply(
  req: ApiRequest,
  first: ApiIdentity,
  stages: Record<string, StageBehaviour>,
  served: Served = {},
): Reply {
  const host = stripPort(req.host ?? "");
  const domain = served.domains?.find((d) => d.name.toLowerCase() === host);
  if (domain) return domainReply(req, domain, first, stages);
  if (served.defaultEndpointDisabled) return errorReply(FORBIDDEN);
  const api = [first, ...(served.apis ?? [])].find((a) => selectsApi(req, a));
  if (!api) return errorReply(FORBIDDEN);
  if (strictRefuses(req, api))
    return errorReply(api.strictRefusal === 421 ? MISDIRECTED : FORBIDDEN);
  const { stage, rest } = splitPath(req.url);
  // An undeployed stage is Forbidden, not Not Found: that is how API Gateway says it.
  const behaviour = Object.hasOwn(stages, stage) ? stages[stage] : undefined;
  if (!behaviour) return errorReply(FORBIDDEN);
  if (req.method !== "GET" || (rest !== "" && rest !== "/")) return errorReply(MISSING_TOKEN);
  return behaviourReply(behaviour, api, stage);
}

function behaviourReply(behaviour: StageBehaviour, api: ApiIdentity, stage: string): Reply {
  if (behaviour === "ok") {
    return { status: 200, headers: gatewayHeaders(), body: JSON.stringify({ ok: true, stage }) };
  }
  if (behaviour === "deny" || behaviour === "no-allow") {
    return errorReply(policyError(api, stage, behaviour === "deny"));
  }
  return errorReply(SIMPLE_ERRORS[behaviour] ?? FORBIDDEN);
}

/** A corporate proxy's refusal: HTML, and none of API Gateway's headers. */
export function proxyDenied(): Reply {
  return {
    status: 403,
    headers: { "content-type": "text/html; charset=utf-8", via: "1.1 corp-proxy" },
    body: "<html><head><title>403 Forbidden</title></head><body><h1>Access denied by policy</h1></body></html>\n",
  };
}

export interface ApigwServerOptions {
  addresses: string[];
  port: number;
  api: ApiIdentity;
  served?: Served;
  certs: SimulatorCerts;
  faults: FaultState;
  stages: () => Record<string, StageBehaviour>;
  /** TLSv1.3: handshakes that offer at most TLS 1.2 are refused (a TLS 1.3-only policy). */
  tlsMinVersion?: tls.SecureVersion;
  onConnection: () => void;
  onRequest: () => void;
}

export interface ApigwServer {
  port: number;
  /** Brings listeners down or up to match the `refuse` faults now in force. */
  syncListeners(): void;
  close(): Promise<void>;
}

interface Contexts {
  server: tls.SecureContext;
  untrusted: tls.SecureContext;
  wrongName: tls.SecureContext;
  /** Custom domain names present their own certificate (ACM's, for the domain). */
  domain?: tls.SecureContext;
}

function contexts(certs: SimulatorCerts, minVersion?: tls.SecureVersion): Contexts {
  const make = (c: tls.SecureContextOptions) => tls.createSecureContext({ ...c, minVersion });
  return {
    server: make(certs.server),
    untrusted: make(certs.untrusted),
    wrongName: make(certs.wrongName),
    domain: certs.domain ? make(certs.domain) : undefined,
  };
}

function contextFor(ctx: Contexts, fault: AddressFault | null): tls.SecureContext {
  if (fault === "untrusted-cert") return ctx.untrusted;
  if (fault === "wrong-name") return ctx.wrongName;
  return ctx.server;
}

function send(res: http.ServerResponse, reply: Reply): void {
  // A length rather than chunks, as API Gateway sends it.
  const length = String(Buffer.byteLength(reply.body));
  res.writeHead(reply.status, { ...reply.headers, "content-length": length });
  res.end(reply.body);
}

/** Every socket the server ever opened, so close() can leave nothing behind. */
class SocketRegistry {
  private readonly sockets = new Set<net.Socket>();

  add(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
  }

  destroyAll(): Promise<void[]> {
    return Promise.all([...this.sockets].map(destroyed));
  }
}

function destroyed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.closed) return resolve();
    socket.once("close", () => resolve());
    socket.destroy();
  });
}

/** TCP accept → per-address fault → TLS → HTTP; the fault is read once, when the SYN arrives. */
class ConnectionHandler {
  private readonly ctx: Contexts;
  private readonly http: http.Server;
  private readonly faultOf = new WeakMap<net.Socket, AddressFault | null>();

  constructor(
    private readonly opts: ApigwServerOptions,
    private readonly registry: SocketRegistry,
  ) {
    this.ctx = contexts(opts.certs, opts.tlsMinVersion);
    // Never listens: it is handed sockets we have already decrypted.
    this.http = http.createServer((req, res) => this.onRequest(req, res));
  }

  onConnection(socket: net.Socket): void {
    this.registry.add(socket);
    this.opts.onConnection();
    socket.on("error", () => socket.destroy());
    const fault = this.opts.faults.address(socket.localAddress);
    // Only reached if a connection raced a listener going down: refuse it the loud way.
    if (fault === "refuse") socket.resetAndDestroy();
    else if (fault === "tls-reset") socket.once("data", () => socket.resetAndDestroy());
    else if (fault !== "tls-stall") this.startTls(socket, fault);
    // tls-stall: the ClientHello is read and ignored; only close() ends the connection.
  }

  private startTls(socket: net.Socket, fault: AddressFault | null): void {
    const secureContext = contextFor(this.ctx, fault);
    const domains = new Set(this.opts.served?.domains?.map((d) => d.name.toLowerCase()));
    const domainContext = fault === null ? this.ctx.domain : undefined;
    const tlsSocket = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext,
      SNICallback: (name, cb) =>
        cb(null, domainContext && domains.has(name.toLowerCase()) ? domainContext : secureContext),
    });
    this.registry.add(tlsSocket);
    tlsSocket.on("error", () => tlsSocket.destroy());
    tlsSocket.once("secure", () => this.afterHandshake(tlsSocket, fault));
  }

  private afterHandshake(tlsSocket: tls.TLSSocket, fault: AddressFault | null): void {
    if (fault === "http-stall") return;
    // Garbage answers the request, so the client sees a bad reply, not an early close.
    if (fault === "http-garbage") tlsSocket.once("data", () => tlsSocket.end(GARBAGE));
    else {
      this.faultOf.set(tlsSocket, fault);
      this.http.emit("connection", tlsSocket);
    }
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.opts.onRequest();
    if (this.faultOf.get(req.socket) === "proxy-403") return send(res, proxyDenied());
    const sni = (req.socket as tls.TLSSocket).servername;
    const request = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      host: req.headers.host,
      apiIdHeader: header(req, "x-apigw-api-id"),
      servername: typeof sni === "string" ? sni : undefined,
    };
    send(res, apiGatewayReply(request, this.opts.api, this.opts.stages(), this.opts.served));
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host }, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The listeners, one per address; `refuse` is an address whose listener is down. */
class Listeners {
  private readonly active = new Map<string, net.Server>();
  port = 0;

  constructor(
    private readonly onConnection: (socket: net.Socket) => void,
    private readonly isDown: (address: string) => boolean,
  ) {}

  /** Binds every address on one port; with port 0, retries elsewhere if an address is busy. */
  async bindAll(addresses: string[], port: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tryBindAll(addresses, port);
      } catch (error) {
        await this.closeAll();
        const busy = (error as NodeJS.ErrnoException).code === "EADDRINUSE";
        if (!busy || port !== 0 || attempt >= BIND_ATTEMPTS) throw error;
      }
    }
  }

  private async tryBindAll(addresses: string[], port: number): Promise<void> {
    this.port = port;
    for (const address of addresses) {
      const server = this.create();
      this.active.set(address, server);
      this.port = await listen(server, this.port, address);
    }
  }

  private create(): net.Server {
    // Without TCP_NODELAY (net's default, unlike http's), a reply that leaves in two segments
    // waits for the client's delayed ACK: about one curl request in seven took 40 ms longer.
    return net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
  }

  /** Takes effect before any connection the caller opens next. */
  sync(addresses: string[]): void {
    for (const address of addresses) {
      const server = this.active.get(address);
      if (this.isDown(address) && server) {
        this.active.delete(address);
        // Closes the listening socket now, or cancels a listen still pending (Node binds a
        // tick later); connections already open live on.
        server.close();
      } else if (!this.isDown(address) && !server) this.start(address);
    }
  }

  private start(address: string): void {
    const server = this.create();
    this.active.set(address, server);
    // If the port was taken meanwhile, the address stays down: connections are refused.
    server.once("error", () => this.active.get(address) === server && this.active.delete(address));
    server.listen({ port: this.port, host: address });
  }

  async closeAll(): Promise<void> {
    const servers = [...this.active.values()];
    this.active.clear();
    await Promise.all(servers.map(closeServer));
  }
}

export async function startApigwServer(opts: ApigwServerOptions): Promise<ApigwServer> {
  const registry = new SocketRegistry();
  const handler = new ConnectionHandler(opts, registry);
  const isDown = (address: string) => opts.faults.address(address) === "refuse";
  const listeners = new Listeners((socket) => handler.onConnection(socket), isDown);
  await listeners.bindAll(opts.addresses, opts.port);
  const syncListeners = () => listeners.sync(opts.addresses);
  syncListeners();
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Sockets first: a server's close() waits for its connections to end.
      await Promise.all([registry.destroyAll(), listeners.closeAll()]);
    })());
  return { port: listeners.port, syncListeners, close };
}
