// Small hostile peers on loopback for the tests in this folder: each sends exactly the bytes a
// test gives it, and records what the client did (connections, closes), so a test can check
// that nothing stays open.
import dgram from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import dnsPacket, { type Answer, type DecodedPacket } from "dns-packet";
import { resolveSettings } from "../../src/config/load.js";
import type { PreparedTarget } from "../../src/config/prepare.js";
import { simulatorCerts } from "../../src/simulator/certs.js";
import { DEFAULT_API_ID, DEFAULT_ENDPOINT } from "../../src/simulator/index.js";

export interface Peer {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections the client (or the server after `end`) has closed. */
  closed: number;
  close(): Promise<void>;
}

type UdpHandler = (query: Buffer, reply: (bytes: Buffer) => void) => void;
type TcpHandler = (socket: net.Socket, firstData: Buffer) => void;

/** A DNS peer on one port: UDP and, when `onTcp` is given, TCP too. */
export async function dnsPeer(onUdp: UdpHandler, onTcp?: TcpHandler): Promise<Peer> {
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket("udp4");
    udp.on("message", (msg, rinfo) =>
      onUdp(msg, (bytes) => udp.send(bytes, rinfo.port, rinfo.address)),
    );
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
    const port = udp.address().port;
    const closeUdp = () => new Promise<void>((resolve) => udp.close(() => resolve()));
    if (!onTcp) return { port, accepted: 0, closed: 0, close: closeUdp };
    try {
      const tcp = await tcpPeer((socket) => {
        socket.once("data", (first) => onTcp(socket, first));
      }, port);
      return {
        port,
        get accepted() {
          return tcp.accepted;
        },
        get closed() {
          return tcp.closed;
        },
        close: async () => {
          await Promise.all([closeUdp(), tcp.close()]);
        },
      };
    } catch (err) {
      // The UDP port number is taken for TCP by someone else: try another.
      await closeUdp();
      if (attempt > 20) throw err;
    }
  }
}

/** A raw TCP server; `handle` gets every accepted socket. */
export async function tcpPeer(handle: (socket: net.Socket) => void, port = 0): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const peer = { port: 0, accepted: 0, closed: 0, close: async () => {} };
  const server = net.createServer((socket) => {
    peer.accepted++;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => {
      peer.closed++;
      sockets.delete(socket);
    });
    handle(socket);
    // Keep reading whatever the handler ignores: the client's FIN is only seen by reading.
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  peer.port = (server.address() as net.AddressInfo).port;
  peer.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return peer;
}

/**
 * A TLS server with the simulator's trusted certificate for `endpoint`; `handle` gets each
 * connection once the handshake is done and the request's first bytes have arrived.
 */
export async function tlsPeer(
  endpoint: string,
  handle: (socket: tls.TLSSocket, request: string, raw: net.Socket) => void,
): Promise<Peer & { caPem: string }> {
  const certs = simulatorCerts(endpoint, "us-east-1");
  const sockets = new Set<net.Socket>();
  const byPort = new Map<number | undefined, net.Socket>();
  const peer = { port: 0, accepted: 0, closed: 0, close: async () => {}, caPem: certs.caPem };
  const server = tls.createServer({ cert: certs.server.cert, key: certs.server.key });
  server.on("connection", (raw: net.Socket) => {
    peer.accepted++;
    sockets.add(raw);
    byPort.set(raw.remotePort, raw);
    raw.on("error", () => {});
    raw.on("close", () => {
      peer.closed++;
      sockets.delete(raw);
      byPort.delete(raw.remotePort);
    });
  });
  server.on("tlsClientError", () => {});
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    socket.on("error", () => {});
    const raw = byPort.get(socket.remotePort) as net.Socket;
    socket.once("data", (first: Buffer) => handle(socket, first.toString("latin1"), raw));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  peer.port = (server.address() as net.AddressInfo).port;
  peer.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return peer;
}

/** The query's id and question, for building a reply to it. */
export function parseQuery(query: Buffer): DecodedPacket {
  return dnsPacket.decode(query);
}

/** A well-formed reply to `query` with `answers` (and any flags or overrides given). */
export function replyTo(
  query: Buffer,
  answers: Answer[],
  over: Partial<{ id: number; flags: number; name: string; rcode: string }> = {},
): Buffer {
  const q = parseQuery(query);
  const question = q.questions?.[0];
  return dnsPacket.encode({
    type: "response",
    id: over.id ?? q.id,
    flags: (over.flags ?? 0) | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    rcode: over.rcode,
    questions: question ? [{ ...question, name: over.name ?? question.name }] : [],
    answers,
  } as dnsPacket.Packet);
}

/** A's for the name asked (none for AAAA): the reply a resolver gives an endpoint name. */
export function addressReply(query: Buffer, addresses: string[]): Buffer {
  const q = parseQuery(query).questions?.[0];
  if (!q || q.type !== "A") return replyTo(query, []);
  return replyTo(
    query,
    addresses.map((data) => ({ type: "A", name: q.name, ttl: 60, data }) as Answer),
  );
}

/** Prefixes a DNS message with its TCP length. */
export function framed(bytes: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(bytes.length);
  return Buffer.concat([prefix, bytes]);
}

/** Mulberry32: a tiny seeded PRNG, so every fuzz case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Open TCP handles in this process (sockets and servers), to compare before and after. */
export function openTcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;
}

/**
 * What a test needs to diagnose a peer as the endpoint: a resolver answering 127.0.0.1, and a CA
 * file that trusts tlsPeer's certificates.
 */
export interface PeerEndpoint {
  dns: Peer;
  caFile: string;
  /** The target for `peer`: the default endpoint and API id, on the peer's port. */
  target(peer: Peer, stages: string[], timeout: string): PreparedTarget;
  close(): Promise<void>;
}

export async function peerEndpoint(): Promise<PeerEndpoint> {
  const dns = await dnsPeer((q, reply) => reply(addressReply(q, ["127.0.0.1"])));
  const dir = mkdtempSync(join(tmpdir(), "apigw-diag-peer-"));
  const caFile = join(dir, "ca.pem");
  const probe = await tlsPeer(DEFAULT_ENDPOINT, () => {});
  writeFileSync(caFile, probe.caPem);
  await probe.close();
  return {
    dns,
    caFile,
    target: (peer, stages, timeout) => {
      const [target] = resolveSettings(
        {
          endpoint: DEFAULT_ENDPOINT,
          apiId: DEFAULT_API_ID,
          stages,
          resolvers: [`127.0.0.1:${dns.port}`],
          port: peer.port,
          caFile,
          privateCidrs: ["127.0.0.0/8"],
          compareOs: false,
          timeout,
        },
        {},
        {},
      ).targets;
      if (!target) throw new Error("no target");
      return target;
    },
    close: async () => {
      await dns.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
