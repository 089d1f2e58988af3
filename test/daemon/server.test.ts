// The status server on loopback with endpoints of its own: a body written in pieces, HEAD,
// errors, and clients that stop reading or go away halfway through.
import net from "node:net";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startStatusServer, type Endpoints, type StatusServer } from "../../src/daemon/server.js";

const PIECE = "x".repeat(16 * 1024 - 1) + "\n";

/** `count` pieces, made only as they are asked for; records how far it was read and closed. */
function lazyBody(count: number) {
  const seen = { pulled: 0, finished: false };
  function* body(): Generator<string> {
    try {
      for (; seen.pulled < count;) {
        seen.pulled++;
        yield PIECE;
      }
    } finally {
      seen.finished = true;
    }
  }
  return { seen, body: { [Symbol.iterator]: body } };
}

function memoryLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n"))
        if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: "info" }, stream), lines };
}

function endpoints(metrics: Endpoints["metrics"]): Endpoints {
  return {
    metrics,
    health: () => ({ ok: true, detail: {} }),
    report: () => ({}),
    status: async () => "<p>status</p>",
    probe: async () => ({ status: 200, contentType: "text/plain", body: "probe\n" }),
  };
}

const TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A status server on a free loopback port whose /metrics is `metrics`. */
const serve = (metrics: Endpoints["metrics"], log: pino.Logger): Promise<StatusServer> =>
  startStatusServer({ host: "127.0.0.1", port: 0 }, endpoints(metrics), log);

/** Sends a request, reads `bytes` of the answer (headers included), then closes the socket. */
function readPart(port: number, bytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let got = "";
    socket.on("error", reject);
    socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    socket.on("data", (chunk: Buffer) => {
      got += chunk.toString("latin1");
      if (got.length >= bytes) {
        socket.destroy();
        resolve(got);
      }
    });
  });
}

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("status server", () => {
  let server: StatusServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("writes a body of pieces chunked, whole, with the content type", async () => {
    const { seen, body } = lazyBody(40);
    const { log } = memoryLog();
    server = await serve(async () => ({ contentType: TYPE, body }), log);
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(TYPE);
    expect(res.headers.get("transfer-encoding")).toBe("chunked");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toBe(PIECE.repeat(40));
    expect(seen).toEqual({ pulled: 40, finished: true });
  });

  it("answers HEAD with the headers only, without rendering the pieces", async () => {
    const { seen, body } = lazyBody(40);
    const { log } = memoryLog();
    server = await serve(async () => ({ contentType: TYPE, body }), log);
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(TYPE);
    expect(await res.text()).toBe("");
    expect(seen.pulled).toBe(0);
  });

  it("answers 500 with one log line when the metrics fail, before or at the first piece", async () => {
    const { log, lines } = memoryLog();
    let fail: "promise" | "piece" = "promise";
    server = await serve(async () => {
      if (fail === "promise") throw new Error("collect failed");
      return {
        contentType: TYPE,
        body: {
          [Symbol.iterator]: () => ({
            next(): IteratorResult<string> {
              throw new Error("render failed");
            },
          }),
        },
      };
    }, log);
    for (const f of ["promise", "piece"] as const) {
      fail = f;
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(500);
      expect(await res.text()).toBe("internal error\n");
    }
    const errors = lines.filter((l) => l.event === "http_error");
    expect(errors.map((l) => (l.err as { message: string }).message)).toEqual([
      "collect failed",
      "render failed",
    ]);
  });

  it("cuts the answer short, and logs, when a later piece fails", async () => {
    const { log, lines } = memoryLog();
    server = await serve(
      async () => ({
        contentType: TYPE,
        body: {
          [Symbol.iterator]: function* () {
            yield "# HELP a_total a\n";
            throw new Error("render failed later");
          },
        },
      }),
      log,
    );
    // Never an answer that looks whole: the connection closes without the last chunk.
    const url = `http://127.0.0.1:${server.port}/metrics`;
    await expect(fetch(url).then((res) => res.text())).rejects.toThrow();
    expect(lines.filter((l) => l.event === "http_error")).toHaveLength(1);
  });

  it("makes no more pieces than a client that stopped reading takes, then all of them", async () => {
    const count = 2_000; // 32 MiB: more than the socket buffers on both sides hold
    const { seen, body } = lazyBody(count);
    const { log } = memoryLog();
    server = await serve(async () => ({ contentType: TYPE, body }), log);
    const socket = net.connect(server.port, "127.0.0.1");
    socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await new Promise((r) => socket.once("readable", r));
    socket.pause();
    await until("the server to stop at the socket's limit", () => seen.pulled > 0);
    await new Promise((r) => setTimeout(r, 300));
    const stalled = seen.pulled;
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.pulled).toBe(stalled);
    expect(stalled).toBeLessThan(count / 2);
    let received = 0;
    socket.on("data", (chunk: Buffer) => (received += chunk.length));
    socket.resume();
    await new Promise((r) => socket.once("end", r));
    socket.destroy();
    expect(seen).toEqual({ pulled: count, finished: true });
    expect(received).toBeGreaterThan(count * PIECE.length * 0.9);
  });

  it("stops making pieces, and leaks nothing, when the client goes away halfway", async () => {
    const count = 2_000;
    const { seen, body } = lazyBody(count);
    const { log, lines } = memoryLog();
    server = await serve(async () => ({ contentType: TYPE, body }), log);
    await readPart(server.port, (count * PIECE.length) / 2);
    await until("the pieces to be closed", () => seen.finished);
    expect(seen.pulled).toBeLessThan(count);
    // The server answers the next client, and closes at once: nothing is left waiting.
    const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(res.status).toBe(200);
    const started = Date.now();
    await server.close();
    server = undefined;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(lines.filter((l) => l.event === "http_error")).toEqual([]);
  });
});
