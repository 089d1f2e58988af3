// The resolver the on-prem host would ask: authoritative for the endpoint's names, over UDP and
// TCP on the same port, with switchable faults. Replies are built by one pure function
// (`buildReply`) so the wire servers only move bytes.

import dgram from "node:dgram";
import net from "node:net";
import { randomBytes, randomInt } from "node:crypto";
import dnsPacket from "dns-packet";
import type { DecodedPacket, Packet, StringAnswer } from "dns-packet";
import type { DnsFault, FaultState } from "./faults.js";

/** What a misconfigured resolver returns instead of the endpoint: public, never contacted. */
export const PUBLIC_ADDRESSES = ["52.94.133.131", "3.5.0.10"];
const TTL = 60;
const RCODE = { noerror: 0, servfail: 2, nxdomain: 3, refused: 5 } as const;
const BIND_ATTEMPTS = 5;

export type Transport = "udp" | "tcp";

export interface Zone {
  /** Names answered, any case. */
  names: string[];
  addresses: string[];
  /** Names answered with other addresses (lowercase keys): a record pointing elsewhere. */
  overrides?: Record<string, string[]>;
  /** `execute-api.<region>.amazonaws.com`: answered whole under the `zone-forward` fault. */
  forwardedZone?: string;
}

export interface DnsServerOptions {
  host: string;
  port: number;
  zone: Zone;
  faults: FaultState;
  /** Told of every query, with its first question's name when it decodes. */
  onQuery: (name?: string) => void;
}

export interface DnsServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** The reply to one query under one fault, or null for none at all. */
export function buildReply(
  query: DecodedPacket,
  zone: Zone,
  fault: DnsFault | null,
  transport: Transport,
): Buffer | null {
  if (fault === "timeout") return null;
  if (fault === "malformed") return garbage(query.id ?? 0);
  const reply = replyPacket(query, zone, fault, transport);
  return dnsPacket.encode(reply);
}

function replyPacket(
  query: DecodedPacket,
  zone: Zone,
  fault: DnsFault | null,
  transport: Transport,
): Packet {
  const question = query.questions?.[0];
  const id = fault === "wrong-id" ? ((query.id ?? 0) + 1) & 0xffff : query.id;
  const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  const base = { type: "response" as const, id, questions: query.questions };
  // A failing resolver speaks for nobody: no AA on its errors.
  if (fault === "servfail") return { ...base, flags: rd | RCODE.servfail };
  if (fault === "refused") return { ...base, flags: rd | RCODE.refused };
  const flags = rd | dnsPacket.AUTHORITATIVE_ANSWER;
  const known =
    question !== undefined &&
    (inZone(zone, question.name) || (fault === "zone-forward" && forwarded(zone, question.name)));
  if (!known || fault === "nxdomain") return { ...base, flags: flags | RCODE.nxdomain };
  if (fault === "truncate" && transport === "udp") {
    return { ...base, flags: flags | dnsPacket.TRUNCATED_RESPONSE };
  }
  if (fault === "nodata") return { ...base, flags };
  const own = zone.overrides?.[question.name.toLowerCase().replace(/\.$/, "")] ?? zone.addresses;
  const addresses = fault === "public" ? PUBLIC_ADDRESSES : own;
  if (fault === "aaaa-only" && question.type === "A") return { ...base, flags };
  return { ...base, flags, answers: records(question.name, question.type, addresses) };
}

/** Any name under the forwarded zone: what the VPC's resolver answers with private DNS on. */
function forwarded(zone: Zone, name: string): boolean {
  if (!zone.forwardedZone) return false;
  const wanted = name.toLowerCase().replace(/\.$/, "");
  return wanted.endsWith(`.${zone.forwardedZone.toLowerCase()}`);
}

function inZone(zone: Zone, name: string): boolean {
  const wanted = name.toLowerCase().replace(/\.$/, "");
  if (zone.overrides && Object.hasOwn(zone.overrides, wanted)) return true;
  return zone.names.some((n) => n.toLowerCase() === wanted);
}

function records(name: string, type: string, addresses: string[]): StringAnswer[] {
  const family = type === "A" ? 4 : type === "AAAA" ? 6 : 0;
  return addresses
    .filter((a) => net.isIP(a) === family)
    .map((data) => ({ type: family === 4 ? "A" : "AAAA", name, ttl: TTL, class: "IN", data }));
}

// A header that claims 65535 questions and answers over a short random body: the client sees a
// reply to its own query ID that no decoder can read, every time.
function garbage(id: number): Buffer {
  const header = Buffer.from([id >> 8, id & 0xff, 0x81, 0x80, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
  return Buffer.concat([header, randomBytes(randomInt(40, 200))]);
}

function decodeQuery(message: Buffer): DecodedPacket | null {
  try {
    const packet = dnsPacket.decode(message);
    return packet.type === "query" && packet.questions?.length ? packet : null;
  } catch {
    return null; // garbage from the network is ignored, never fatal
  }
}

type Answerer = (message: Buffer, transport: Transport) => Buffer | null;

function answerer(opts: DnsServerOptions): Answerer {
  return (message, transport) => {
    const query = decodeQuery(message);
    opts.onQuery(query?.questions?.[0]?.name);
    return query ? buildReply(query, opts.zone, opts.faults.dns(), transport) : null;
  };
}

function serveUdp(socket: dgram.Socket, answer: Answerer): void {
  socket.on("message", (message, peer) => {
    const reply = answer(message, "udp");
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  socket.on("error", () => undefined); // e.g. ICMP port unreachable from a client that left
}

// DNS over TCP: each message is preceded by its length on two bytes (RFC 1035 4.2.2).
function serveTcpConnection(socket: net.Socket, answer: Answerer): void {
  let pending = Buffer.alloc(0);
  socket.on("data", (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
      pending = pending.subarray(2 + message.length);
      const reply = answer(message, "tcp");
      if (reply) socket.write(frame(reply));
    }
  });
  socket.on("error", () => socket.destroy());
}

function frame(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

function bindUdp(socket: dgram.Socket, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => {
      socket.off("error", reject);
      resolve(socket.address().port);
    });
  });
}

function listenTcp(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

interface Bound {
  udp: dgram.Socket;
  tcp: net.Server;
  port: number;
}

async function bindBoth(host: string, port: number): Promise<Bound> {
  const udp = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
  const tcp = net.createServer({ noDelay: true });
  try {
    const bound = await bindUdp(udp, port, host);
    await listenTcp(tcp, bound, host);
    return { udp, tcp, port: bound };
  } catch (error) {
    udp.close();
    tcp.close();
    throw error;
  }
}

// With port 0, UDP picks a port that TCP may find taken: pick again, a few times.
async function bindSamePort(host: string, port: number): Promise<Bound> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await bindBoth(host, port);
    } catch (error) {
      const busy = (error as NodeJS.ErrnoException).code === "EADDRINUSE";
      if (!busy || port !== 0 || attempt >= BIND_ATTEMPTS) throw error;
    }
  }
}

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const { udp, tcp, port } = await bindSamePort(opts.host, opts.port);
  const answer = answerer(opts);
  const sockets = new Set<net.Socket>();
  serveUdp(udp, answer);
  tcp.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    serveTcpConnection(socket, answer);
  });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= closeAll(udp, tcp, sockets));
  return { host: opts.host, port, close };
}

function destroyed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.closed) return resolve();
    socket.once("close", () => resolve());
    socket.destroy();
  });
}

async function closeAll(udp: dgram.Socket, tcp: net.Server, sockets: Set<net.Socket>) {
  const closed = [...sockets].map(destroyed);
  await Promise.all([
    new Promise<void>((resolve) => udp.close(() => resolve())),
    new Promise<void>((resolve) => tcp.close(() => resolve())),
    ...closed,
  ]);
}
