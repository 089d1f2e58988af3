// Who holds the daemon's connections, with real sockets on loopback (127.0.0.0/8 gives as many
// source addresses as a test needs): a newcomer is always taken, its own address makes room, a
// connection in the middle of an answer goes last, and nothing is kept after a socket closes.
import http from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ConnectionGuard, groupOf } from "../../src/daemon/connections.js";
import { hasSecondLoopback } from "../helpers.js";

// These clients come from 127.0.0.2 to 127.0.0.6: without them (macOS's loopback holds 127.0.0.1
// alone unless aliased) there is no second client address to tell apart.
const manyClients = it.skipIf(!hasSecondLoopback);

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** An HTTP server guarded by `guard`; /hold answers only when `release` is called. */
async function guarded(guard: ConnectionGuard) {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    guard.started(req.socket);
    res.once("close", () => guard.finished(req.socket));
    if (req.url === "/hold") held.push(res);
    else res.end("ok");
  });
  server.prependListener("connection", (s: net.Socket) => guard.admit(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, held };
}

function open(port: number, from: string, send = ""): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1", localAddress: from }, () => {
      if (send) s.write(send);
      resolve(s);
    });
    s.on("error", () => {});
    s.once("error", reject);
    cleanup.push(() => s.destroy());
  });
}

const closed = (s: net.Socket) =>
  new Promise<boolean>((resolve) => {
    if (s.destroyed || s.readableEnded) return resolve(true);
    s.once("close", () => resolve(true));
  });

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(ok()).toBe(true);
}

describe("connection guard", () => {
  manyClients("takes every newcomer: its address gives up its oldest idle connection", async () => {
    const guard = new ConnectionGuard({ perAddress: 4, total: 100 });
    const { port } = await guarded(guard);
    const first = await Promise.all([1, 2, 3, 4].map(() => open(port, "127.0.0.2", "GET /x")));
    await until(() => guard.size === 4);
    const gone = closed(first[0]!);
    const newcomer = await open(port, "127.0.0.2");
    expect(await gone).toBe(true);
    await until(() => guard.size === 4);
    expect(guard.evicted).toBe(1);
    expect(newcomer.destroyed).toBe(false);
  });

  manyClients("evicts a connection in the middle of an answer last", async () => {
    const guard = new ConnectionGuard({ perAddress: 3, total: 100 });
    const { port, held } = await guarded(guard);
    const busy = await open(port, "127.0.0.3", "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => held.length === 1);
    let busyClosed = false;
    busy.once("close", () => (busyClosed = true));
    // Ten newcomers from the same address: each makes room among the idle ones.
    for (let i = 0; i < 10; i++) await open(port, "127.0.0.3");
    await until(() => guard.evicted >= 8);
    expect(busyClosed).toBe(false);
    held[0]!.end("done");
  });

  manyClients(
    "when full, takes from the address holding the most, not from the others",
    async () => {
      const guard = new ConnectionGuard({ perAddress: 10, total: 6 });
      const { port } = await guarded(guard);
      const crowd = await Promise.all([1, 2, 3, 4, 5].map(() => open(port, "127.0.0.4")));
      const other = await open(port, "127.0.0.5");
      await until(() => guard.size === 6);
      await open(port, "127.0.0.6");
      await until(() => guard.evicted === 1 && guard.size === 6);
      expect(other.destroyed).toBe(false);
      expect(await closed(crowd[0]!)).toBe(true);
    },
  );

  it("forgets a connection when its socket closes", async () => {
    const guard = new ConnectionGuard({ perAddress: 2, total: 4 });
    const { port } = await guarded(guard);
    for (let i = 0; i < 20; i++) {
      const status = await new Promise<number>((resolve, reject) =>
        http
          .get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          })
          .on("error", reject),
      );
      expect(status).toBe(200);
    }
    await until(() => guard.size === 0);
    expect(guard.evicted).toBe(0);
  });

  it("counts an IPv6 /64 as one address, and IPv4-mapped addresses as IPv4", () => {
    expect(groupOf("2001:db8:1:2:aaaa::1")).toBe(groupOf("2001:db8:1:2:bbbb::2"));
    expect(groupOf("2001:db8:1:2::1")).not.toBe(groupOf("2001:db8:1:3::1"));
    expect(groupOf("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(groupOf("10.1.2.3")).toBe("10.1.2.3");
  });
});
