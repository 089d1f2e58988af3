import { subscribe } from "node:diagnostics_channel";
import type { Duplex } from "node:stream";
import type { Client, Dispatcher } from "undici";
import { bounded, elapsed, ended, now, type ProbeContext } from "./context.js";

export interface HttpInput {
  /** A connected (and verified) socket; the probe consumes and closes it. */
  socket: Duplex;
  /** Host header and origin name. */
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  maxBodyBytes: number;
}

export interface HttpObservation {
  requestSent: boolean;
  timedOut: boolean;
  /** The run was cancelled before the answer was complete. */
  cancelled?: boolean;
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  bodyBytes?: number;
  /** The body was cut at `maxBodyBytes`: nothing more was read. */
  bodyTruncated?: boolean;
  /** Headers arrived, then the body stalled or the connection broke before its end. */
  bodyIncomplete?: boolean;
  errorCode?: string;
  errorMessage?: string;
  /** No status came: the peer reset the connection, or closed it, after the request. */
  connectionLost?: "reset" | "closed";
  ttfbMs?: number;
  totalMs: number;
}

// undici's Client and its request(), from its documented index. Loaded by `preloadHttp()` before
// any phase clock starts (see run.ts): evaluating a module blocks the event loop, and inside a
// running phase that time would be reported as the network's.
interface Undici {
  Client: typeof Client;
  request: (this: Client, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
}
/** The most response header bytes undici parses: Node's own default (`--max-http-header-size`). */
const MAX_HEADER_BYTES = 16 * 1024;

let undici: Promise<Undici> | undefined;
export const preloadHttp = (): Promise<Undici> =>
  // The default export, module.exports itself: what a bundle of this CommonJS package gives too.
  (undici ??= import("undici").then(({ default: u }) => ({
    Client: u.Client,
    request: u.Client.prototype.request as Undici["request"],
  })));

/**
 * When undici writes a request's first byte, per socket: the HTTP phase's clock starts there, so
 * that TTFB and the phase's total are the network's and the server's time only, never the time
 * undici spends on its own first request (compiling its WebAssembly parser) or anything queued on
 * the event loop before it. Documented: published "right before the first byte of the request is
 * written to the socket".
 */
const requestSentAt = new WeakMap<object, number>();
subscribe("undici:client:sendHeaders", (message) => {
  const { socket } = message as { socket: object };
  requestSentAt.set(socket, now());
});

/** Why a probe's client is closed once it is done: one error, built once. */
const FINISHED = Object.assign(new Error("apigw-diag: check finished, connection closed"), {
  code: "APIGW_DIAG_FINISHED",
});

/** One request on its own connection, closed after it. */
export async function probeHttp(ctx: ProbeContext, input: HttpInput): Promise<HttpObservation> {
  const conn = await HttpConnection.open(ctx, input);
  try {
    return await conn.request(ctx, input);
  } finally {
    await conn.close();
  }
}

/** What a request on an open connection needs besides it. */
export type HttpRequestInput = Pick<HttpInput, "path" | "headers" | "maxBodyBytes">;

/**
 * One HTTP/1.1 connection over a verified socket, carrying one request at a time: every stage of
 * an address rides the one connection, as a browser or an SDK would, until the server closes it
 * or a request on it fails.
 */
export class HttpConnection {
  /** Requests sent on it so far. */
  requests = 0;

  private constructor(
    private readonly undici: Undici,
    private readonly client: Client,
    private readonly socket: Duplex,
  ) {}

  static async open(ctx: ProbeContext, input: Pick<HttpInput, "socket" | "host" | "port">) {
    const undici = await preloadHttp();
    let handedOver = false;
    const client = new undici.Client(`https://${input.host}:${input.port}`, {
      // Called back on a later tick: undici does not expect the connection to exist already. Only
      // once: a connection that closed is never dialled again behind the probe's back.
      connect: (_opts, callback) =>
        void setImmediate(() => {
          if (handedOver) return callback(RECONNECT, null);
          handedOver = true;
          callback(null, input.socket as never);
        }),
      pipelining: 1,
      headersTimeout: ctx.timeoutMs,
      bodyTimeout: ctx.timeoutMs,
      maxResponseSize: -1,
      // Node's own default limit (--max-http-header-size), given here so it does not depend on
      // undici's reading of node:http.
      maxHeaderSize: MAX_HEADER_BYTES,
    });
    return new HttpConnection(undici, client, input.socket);
  }

  /** Whether another request may be sent: the last one's answer came whole and the connection stays. */
  reusableAfter(o: HttpObservation): boolean {
    return (
      !this.socket.destroyed &&
      o.status !== undefined &&
      o.errorCode === undefined &&
      !o.timedOut &&
      !o.cancelled &&
      !o.bodyIncomplete &&
      !o.bodyTruncated &&
      !/\bclose\b/i.test(o.headers?.connection ?? "")
    );
  }

  async request(ctx: ProbeContext, input: HttpRequestInput): Promise<HttpObservation> {
    this.requests++;
    const started = now();
    // A request on a reused connection must not start its clock at the previous one's first byte.
    requestSentAt.delete(this.socket);
    // From the request's first byte; from the probe's start when it never got that far.
    const since = () => requestSentAt.get(this.socket) ?? started;
    const controller = new AbortController();
    const progress: Progress = { chunks: [], bytes: 0 };
    return bounded<HttpObservation>(
      ctx,
      (reason) => ({
        requestSent: true,
        ...ended(reason),
        totalMs: elapsed(since()),
        ...soFar(progress),
      }),
      (settle) => {
        let finished = false;
        request(this.undici, this.client, input, controller.signal, since, progress).then(
          (o) => {
            finished = true;
            settle(o);
          },
          (err: Error & { code?: string }) =>
            settle({
              requestSent: err !== RECONNECT,
              cancelled: false,
              timedOut:
                err.code === "UND_ERR_HEADERS_TIMEOUT" || err.code === "UND_ERR_BODY_TIMEOUT",
              errorCode: err.code ?? err.name,
              errorMessage: err.message.split("\n")[0],
              connectionLost: progress.status === undefined ? lostHow(err.code) : undefined,
              totalMs: elapsed(since()),
              ...soFar(progress),
            }),
        );
        // Only a request still running is aborted: an abort builds an AbortError, stack and all.
        return () => {
          if (!finished) controller.abort();
        };
      },
    );
  }

  async close(): Promise<void> {
    // With a reason: without one, undici builds a ClientDestroyedError and, as the socket closes,
    // a SocketError, stacks and all, for every request (0.4 s in a daemon's 25 s --cpu-prof).
    await this.client.destroy(FINISHED).catch(() => {});
    this.socket.destroy();
  }
}

/** What undici gets when it would dial a closed connection again. */
const RECONNECT = Object.assign(new Error("apigw-diag: the connection closed before the request"), {
  code: "APIGW_DIAG_CONNECTION_CLOSED",
});

const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

/** undici reports a FIN as UND_ERR_SOCKET ("other side closed") and passes a RST through. */
function lostHow(code: string | undefined): HttpObservation["connectionLost"] {
  if (RESET_CODES.has(code ?? "")) return "reset";
  return code === "UND_ERR_SOCKET" || code === "UND_ERR_CLOSED" || code === RECONNECT.code
    ? "closed"
    : undefined;
}

/** What has arrived so far, kept so a stalled or broken body still reports the status. */
interface Progress {
  status?: number;
  headers?: Record<string, string>;
  ttfbMs?: number;
  chunks: Buffer[];
  bytes: number;
}

function soFar(p: Progress): Partial<HttpObservation> {
  if (p.status === undefined) return {};
  return {
    status: p.status,
    headers: p.headers,
    ttfbMs: p.ttfbMs,
    body: Buffer.concat(p.chunks).toString("utf8"),
    bodyBytes: p.bytes,
    bodyIncomplete: true,
  };
}

async function request(
  undici: Undici,
  client: Client,
  input: HttpRequestInput,
  signal: AbortSignal,
  since: () => number,
  p: Progress,
): Promise<HttpObservation> {
  const res = await undici.request.call(client, {
    method: "GET",
    path: input.path,
    headers: input.headers,
    signal,
  });
  p.status = res.statusCode;
  p.headers = flattenHeaders(res.headers);
  p.ttfbMs = elapsed(since());
  let truncated = false;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    const room = input.maxBodyBytes - p.bytes;
    if (chunk.length > room) {
      p.chunks.push(chunk.subarray(0, room));
      p.bytes += room;
      truncated = true;
      break; // leaving the loop destroys the body stream: nothing more is read
    }
    p.chunks.push(chunk);
    p.bytes += chunk.length;
  }
  return {
    requestSent: true,
    timedOut: false,
    cancelled: false,
    status: p.status,
    headers: p.headers,
    body: Buffer.concat(p.chunks).toString("utf8"),
    bodyBytes: p.bytes,
    bodyTruncated: truncated,
    ttfbMs: p.ttfbMs,
    totalMs: elapsed(since()),
  };
}

function flattenHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}
