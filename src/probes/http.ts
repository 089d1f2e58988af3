import type { Duplex } from "node:stream";
import { Client } from "undici";
import { bounded, elapsed, type ProbeContext } from "./context.js";

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
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  bodyBytes?: number;
  bodyTruncated?: boolean;
  errorCode?: string;
  errorMessage?: string;
  ttfbMs?: number;
  totalMs: number;
}

export async function probeHttp(ctx: ProbeContext, input: HttpInput): Promise<HttpObservation> {
  const started = performance.now();
  const controller = new AbortController();
  // The connection is handed over as it is: undici speaks HTTP/1.1 on the socket we verified.
  const client = new Client(`https://${input.host}:${input.port}`, {
    // Called back on a later tick: undici does not expect the connection to exist already.
    connect: (_opts, callback) => void setImmediate(() => callback(null, input.socket as never)),
    pipelining: 1,
    headersTimeout: ctx.timeoutMs,
    bodyTimeout: ctx.timeoutMs,
    maxResponseSize: -1,
  });
  try {
    return await bounded<HttpObservation>(
      ctx,
      () => ({ requestSent: true, timedOut: true, totalMs: elapsed(started) }),
      (settle) => {
        request(client, input, controller.signal, started).then(
          settle,
          (err: Error & { code?: string }) =>
            settle({
              requestSent: true,
              timedOut:
                err.code === "UND_ERR_HEADERS_TIMEOUT" || err.code === "UND_ERR_BODY_TIMEOUT",
              errorCode: err.code ?? err.name,
              errorMessage: err.message.split("\n")[0],
              totalMs: elapsed(started),
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

async function request(
  client: Client,
  input: HttpInput,
  signal: AbortSignal,
  started: number,
): Promise<HttpObservation> {
  const res = await client.request({
    method: "GET",
    path: input.path,
    headers: input.headers,
    signal,
  });
  const ttfbMs = elapsed(started);
  const chunks: Buffer[] = [];
  let bytes = 0;
  let truncated = false;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    const room = input.maxBodyBytes - bytes;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      bytes += room;
      truncated = true;
      break; // leaving the loop destroys the body stream: nothing more is read
    }
    chunks.push(chunk);
    bytes += chunk.length;
  }
  return {
    requestSent: true,
    timedOut: false,
    status: res.statusCode,
    headers: flattenHeaders(res.headers),
    body: Buffer.concat(chunks).toString("utf8"),
    bodyBytes: bytes,
    bodyTruncated: truncated,
    ttfbMs,
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
