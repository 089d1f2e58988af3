import dgram from "node:dgram";
import net from "node:net";
import dnsPacket from "dns-packet";
import type { RecordType } from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReply, startDnsServer, type DnsServer } from "../../src/simulator/dns-server.js";
import { FaultState, type DnsFault } from "../../src/simulator/faults.js";

const ENDPOINT = "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com";
const API_HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
const ALIAS_HOST = "a1b2c3d4e5-vpce-0a1b2c3d4e5f60718.execute-api.us-east-1.amazonaws.com";
const ADDRESSES = ["127.0.0.1", "127.0.0.2"];
const SILENCE_MS = 300; // how long "no reply" is waited for

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

function query(name: string, type: RecordType = "A", id = 4242): Buffer {
  const flags = dnsPacket.RECURSION_DESIRED;
  return dnsPacket.encode({ type: "query", id, flags, questions: [{ type, name }] });
}

/** Sends one datagram; resolves with the reply, or null after SILENCE_MS without one. */
function udpExchange(port: number, message: Buffer): Promise<Buffer | null> {
  const socket = dgram.createSocket("udp4");
  return new Promise<Buffer | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), SILENCE_MS);
    socket.once("message", (reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
    socket.send(message, port, "127.0.0.1");
  }).finally(() => socket.close());
}

/** Sends length-prefixed messages on one connection; collects `expected` replies or times out. */
function tcpExchange(port: number, chunks: Buffer[], expected = 1): Promise<Buffer[]> {
  const socket = net.connect({ host: "127.0.0.1", port });
  return new Promise<Buffer[]>((resolve) => {
    const replies: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => resolve(replies), SILENCE_MS);
    socket.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        replies.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
      }
      if (replies.length >= expected) {
        clearTimeout(timer);
        resolve(replies);
      }
    });
    socket.on("error", () => resolve(replies));
    for (const chunk of chunks) socket.write(chunk);
  }).finally(() => socket.destroy());
}

function framed(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

const rcode = (reply: Buffer) => dnsPacket.decode(reply).flags! & 0xf;
const addressesIn = (reply: Buffer) =>
  (dnsPacket.decode(reply).answers ?? []).map((a) => ("data" in a ? a.data : null));

describe("simulated resolver", () => {
  const faults = new FaultState();
  let queries = 0;
  let server: DnsServer;

  beforeAll(async () => {
    server = await startDnsServer({
      host: "127.0.0.1",
      port: 0,
      zone: { names: [ENDPOINT, API_HOST, ALIAS_HOST], addresses: ADDRESSES },
      faults,
      onQuery: () => queries++,
    });
  });
  afterAll(() => server.close());

  const ask = async (name: string, type: RecordType = "A", fault: DnsFault | null = null) => {
    faults.set({ dns: fault });
    const reply = await udpExchange(server.port, query(name, type));
    faults.set({});
    return reply;
  };

  it.each([ENDPOINT, API_HOST, ALIAS_HOST])("answers A for %s with every address", async (name) => {
    const reply = dnsPacket.decode((await ask(name))!);
    expect(reply.id).toBe(4242);
    expect(reply.flag_qr && reply.flag_aa && reply.flag_rd).toBe(true);
    expect(reply.flags! & 0xf).toBe(RCODE.NOERROR);
    expect(reply.questions).toEqual([{ name, type: "A", class: "IN" }]);
    expect(reply.answers?.map((a) => [a.type, a.name, "ttl" in a && a.ttl])).toEqual([
      ["A", name, 60],
      ["A", name, 60],
    ]);
    expect(addressesIn(dnsPacket.encode(reply))).toEqual(ADDRESSES);
  });

  it("matches names case-insensitively and echoes the question as asked", async () => {
    const mixed = ENDPOINT.toUpperCase();
    const reply = dnsPacket.decode((await ask(mixed))!);
    expect(reply.questions?.[0]?.name).toBe(mixed);
    expect(reply.answers).toHaveLength(2);
  });

  it("answers AAAA with NOERROR and no records when every address is IPv4", async () => {
    const reply = (await ask(ENDPOINT, "AAAA"))!;
    expect(rcode(reply)).toBe(RCODE.NOERROR);
    expect(addressesIn(reply)).toEqual([]);
  });

  it("answers NXDOMAIN for any other name", async () => {
    expect(rcode((await ask("example.com"))!)).toBe(RCODE.NXDOMAIN);
    expect(rcode((await ask(`x.${ENDPOINT}`))!)).toBe(RCODE.NXDOMAIN);
  });

  it.each([
    ["nxdomain", RCODE.NXDOMAIN],
    ["servfail", RCODE.SERVFAIL],
    ["refused", RCODE.REFUSED],
    ["nodata", RCODE.NOERROR],
  ] as const)("fault %s: rcode %i and no answer", async (fault, expected) => {
    const reply = (await ask(ENDPOINT, "A", fault))!;
    expect(rcode(reply)).toBe(expected);
    expect(addressesIn(reply)).toEqual([]);
  });

  it("fault public: answers public addresses instead of the endpoint's", async () => {
    expect(addressesIn((await ask(ENDPOINT, "A", "public"))!)).toEqual([
      "52.94.133.131",
      "3.5.0.10",
    ]);
  });

  it("fault wrong-id: a valid answer under another query ID", async () => {
    const reply = dnsPacket.decode((await ask(ENDPOINT, "A", "wrong-id"))!);
    expect(reply.id).not.toBe(4242);
    expect(reply.answers).toHaveLength(2);
  });

  it("fault malformed: a reply that does not decode", async () => {
    const reply = (await ask(ENDPOINT, "A", "malformed"))!;
    expect(reply.length).toBeGreaterThan(12);
    expect(reply.readUInt16BE(0)).toBe(4242);
    expect(() => dnsPacket.decode(reply)).toThrow();
  });

  it("fault timeout: no reply over UDP nor TCP", async () => {
    faults.set({ dns: "timeout" });
    expect(await udpExchange(server.port, query(ENDPOINT))).toBeNull();
    expect(await tcpExchange(server.port, [framed(query(ENDPOINT))])).toEqual([]);
    faults.set({});
  });

  it("fault truncate: TC and no answer over UDP, the full answer over TCP", async () => {
    faults.set({ dns: "truncate" });
    const udp = dnsPacket.decode((await udpExchange(server.port, query(ENDPOINT)))!);
    const [tcp] = await tcpExchange(server.port, [framed(query(ENDPOINT))]);
    faults.set({});
    expect(udp.flag_tc).toBe(true);
    expect(udp.answers).toEqual([]);
    expect(dnsPacket.decode(tcp!).flag_tc).toBe(false);
    expect(addressesIn(tcp!)).toEqual(ADDRESSES);
  });

  it("answers over TCP several queries on one connection, split anywhere", async () => {
    const stream = Buffer.concat([
      framed(query(ENDPOINT, "A", 1)),
      framed(query(API_HOST, "A", 2)),
    ]);
    const chunks = [stream.subarray(0, 1), stream.subarray(1, 30), stream.subarray(30)];
    const replies = await tcpExchange(server.port, chunks, 2);
    expect(replies.map((r) => dnsPacket.decode(r).id)).toEqual([1, 2]);
  });

  it("ignores garbage and keeps answering", async () => {
    expect(await udpExchange(server.port, Buffer.from("not dns at all"))).toBeNull();
    expect(await udpExchange(server.port, Buffer.alloc(0))).toBeNull();
    expect(await tcpExchange(server.port, [framed(Buffer.from([1, 2, 3]))])).toEqual([]);
    expect(rcode((await ask(ENDPOINT))!)).toBe(RCODE.NOERROR);
  });

  it("counts every query it receives, answered or not", async () => {
    const before = queries;
    await ask(ENDPOINT);
    await ask(ENDPOINT, "A", "timeout");
    expect(queries - before).toBe(2);
  });
});

describe("buildReply", () => {
  const zone = { names: [ENDPOINT], addresses: ["127.0.0.1", "::1"] };
  const decoded = (name: string, type: RecordType) => dnsPacket.decode(query(name, type));

  it("answers AAAA with the IPv6 addresses and A with the IPv4 ones", () => {
    const aaaa = buildReply(decoded(ENDPOINT, "AAAA"), zone, null, "udp")!;
    const a = buildReply(decoded(ENDPOINT, "A"), zone, null, "udp")!;
    expect(addressesIn(aaaa)).toEqual(["::1"]);
    expect(addressesIn(a)).toEqual(["127.0.0.1"]);
  });

  it("answers no reply at all under the timeout fault", () => {
    expect(buildReply(decoded(ENDPOINT, "A"), zone, "timeout", "tcp")).toBeNull();
  });
});
