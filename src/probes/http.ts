import type { Duplex } from "node:stream";
import type { Client } from "undici";
import { bounded, elapsed, ended, type ProbeContext } from "./context.js";

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

// undici is the largest module a diagnosis loads (160 ms in a --cpu-prof of a cold `diagnose`):
// load it when the first connection is verified, so a run that never gets that far (the black
// hole, a DNS failure) reaches its verdict without it.
let undici: Promise<{ Client: typeof Client }> | undefined;
// A bundled CommonJS module's exports arrive as `default`; Node's own loader also names them.
const loadUndici = () =>
  (undici ??= import("undici").then((m) => ({ Client: m.Client ?? m.default.Client })));

export async function probeHttp(ctx: ProbeContext, input: HttpInput): Promise<HttpObservation> {
  const started = performance.now();
  const controller = new AbortController();
  // The connection is handed over as it is: undici speaks HTTP/1.1 on the socket we verified.
  const { Client } = await loadUndici();
  const client = new Client(`https://${input.host}:${input.port}`, {
    // Called back on a later tick: undici does not expect the connection to exist already.
    connect: (_opts, callback) => void setImmediate(() => callback(null, input.socket as never)),
    pipelining: 1,
    headersTimeout: ctx.timeoutMs,
    bodyTimeout: ctx.timeoutMs,
    maxResponseSize: -1,
  });
  const progress: Progress = { chunks: [], bytes: 0 };
  try {
    return await bounded<HttpObservation>(
      ctx,
      (reason) => ({
        requestSent: true,
        ...ended(reason),
        totalMs: elapsed(started),
        ...soFar(progress),
      }),
      (settle) => {
        request(client, input, controller.signal, started, progress).then(
          settle,
          (err: Error & { code?: string }) =>
            settle({
              requestSent: true,
              cancelled: false,
              timedOut:
                err.code === "UND_ERR_HEADERS_TIMEOUT" || err.code === "UND_ERR_BODY_TIMEOUT",
              errorCode: err.code ?? err.name,
              errorMessage: err.message.split("\n")[0],
              connectionLost: progress.status === undefined ? lostHow(err.code) : undefined,
              totalMs: elapsed(started),
              ...soFar(progress),
            }),
        );
        return () => controller.abort();
      },
    );
  } finally {
    await client.destroy().catch(() => {});
    input.socket.destroy();
  }
}

const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

/** undici reports a FIN as UND_ERR_SOCKET ("other side closed") and passes a RST through. */
function lostHow(code: string | undefined): HttpObservation["connectionLost"] {
  if (RESET_CODES.has(code ?? "")) return "reset";
  return code === "UND_ERR_SOCKET" || code === "UND_ERR_CLOSED" ? "closed" : undefined;
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
  client: Client,
  input: HttpInput,
  signal: AbortSignal,
  started: number,
  p: Progress,
): Promise<HttpObservation> {
  const res = await client.request({
    method: "GET",
    path: input.path,
    headers: input.headers,
    signal,
  });
  p.status = res.statusCode;
  p.headers = flattenHeaders(res.headers);
  p.ttfbMs = elapsed(started);
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
    totalMs: elapsed(started),
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
