// Hostile resolvers: whatever bytes come back, the DNS probe ends within its timeout with a
// DNS_* finding, and never throws.
import { randomBytes } from "node:crypto";
import type { Answer } from "dns-packet";
import { afterEach, describe, expect, it } from "vitest";
import { classifyDns } from "../../src/diagnose/classify.js";
import { privateRanges } from "../../src/config/ranges.js";
import { probeDns, type DnsObservation } from "../../src/probes/dns.js";
import type { Finding } from "../../src/types.js";
import { addressReply, dnsPeer, framed, parseQuery, replyTo, type Peer } from "./servers.js";

const NAME = "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com";
const TIMEOUT = 600;
const peers: Peer[] = [];

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function ask(
  peer: Peer,
  over: Partial<{ maxCnames: number; maxAddresses: number }> = {},
): Promise<{ obs: DnsObservation; finding: Finding; ms: number }> {
  peers.push(peer);
  const before = handles();
  const started = performance.now();
  const ctx = { signal: new AbortController().signal, timeoutMs: TIMEOUT };
  const obs = await probeDns(ctx, {
    name: NAME,
    type: "A",
    resolver: { host: "127.0.0.1", port: peer.port },
    maxCnames: over.maxCnames ?? 8,
    maxAddresses: over.maxAddresses ?? 16,
  });
  const ms = performance.now() - started;
  expect(ms).toBeLessThan(3 * TIMEOUT);
  // The probe's UDP socket and TCP connection are gone once it returns (the peer's stay).
  await expect
    .poll(() => {
      const now = handles();
      return now.udp <= before.udp && now.tcp <= before.tcp;
    })
    .toBe(true);
  return { obs, finding: classifyDns([obs], privateRanges(["127.0.0.0/8"])), ms };
}

/** UDP and TCP handles of this process, for a before/after comparison. */
function handles(): { udp: number; tcp: number } {
  const all = process.getActiveResourcesInfo();
  return {
    udp: all.filter((r) => r === "UDPWrap").length,
    tcp: all.filter((r) => r === "TCPSocketWrap").length,
  };
}

const cname = (name: string, data: string): Answer => ({ type: "CNAME", name, ttl: 60, data });
const a = (name: string, data: string): Answer => ({ type: "A", name, ttl: 60, data });

describe("a hostile resolver over UDP", () => {
  it("reports garbage bytes as DNS_MALFORMED", async () => {
    const peer = await dnsPeer((_q, reply) => reply(Buffer.from("\x00\x01garbage, not DNS")));
    const { finding } = await ask(peer);
    expect(finding.code).toBe("DNS_MALFORMED");
  });

  it("reports a reply cut in the middle of its answer as DNS_MALFORMED", async () => {
    const peer = await dnsPeer((q, reply) => {
      const full = addressReply(q, ["127.0.0.1"]);
      reply(full.subarray(0, full.length - 3));
    });
    const { obs, finding } = await ask(peer);
    expect(finding.code).toBe("DNS_MALFORMED");
    expect(obs.error).toBe("malformed");
  });

  it("reports an empty datagram as DNS_MALFORMED", async () => {
    const peer = await dnsPeer((_q, reply) => reply(Buffer.alloc(0)));
    expect((await ask(peer)).finding.code).toBe("DNS_MALFORMED");
  });

  it("reports an oversized datagram of garbage as DNS_MALFORMED", async () => {
    const peer = await dnsPeer((q, reply) =>
      reply(Buffer.concat([q.subarray(0, 2), randomBytes(60_000)])),
    );
    expect((await ask(peer)).finding.code).toBe("DNS_MALFORMED");
  });

  it("keeps at most maxAddresses of an oversized answer and says how many it dropped", async () => {
    const many = Array.from({ length: 300 }, (_, i) => `127.1.${i >> 8}.${i & 255}`);
    const peer = await dnsPeer((q, reply) => reply(addressReply(q, many)));
    const { obs, finding } = await ask(peer);
    expect(finding.code).toBe("DNS_OK");
    expect(obs.addresses).toHaveLength(16);
    expect(obs.addressesOmitted).toBe(284);
    expect(finding.message).toContain("284 more, not tried");
  });

  it("ignores a reply with the wrong id and reports only that as DNS_MALFORMED", async () => {
    const peer = await dnsPeer((q, reply) =>
      reply(
        addressReply(Buffer.concat([Buffer.from([q[0]! ^ 0xff, q[1]!]), q.subarray(2)]), [
          "127.0.0.1",
        ]),
      ),
    );
    const { obs, finding } = await ask(peer);
    expect(obs.error).toBe("mismatch");
    expect(obs.addresses).toEqual([]);
    expect(finding.code).toBe("DNS_MALFORMED");
    expect(finding.message).toMatch(/reply id \d+, asked \d+/);
  });

  it("takes the right reply when a wrong-id one arrives first", async () => {
    const peer = await dnsPeer((q, reply) => {
      reply(
        addressReply(Buffer.concat([Buffer.from([q[0]! ^ 0xff, q[1]!]), q.subarray(2)]), [
          "127.0.0.9",
        ]),
      );
      reply(addressReply(q, ["127.0.0.1"]));
    });
    const { obs, finding } = await ask(peer);
    expect(finding.code).toBe("DNS_OK");
    expect(obs.addresses).toEqual(["127.0.0.1"]);
  });

  it("reports a reply to another question as DNS_MALFORMED", async () => {
    const peer = await dnsPeer((q, reply) =>
      reply(replyTo(q, [a("other.example.com", "127.0.0.1")], { name: "other.example.com" })),
    );
    const { obs, finding } = await ask(peer);
    expect(obs.error).toBe("mismatch");
    expect(finding.code).toBe("DNS_MALFORMED");
    expect(finding.message).toContain('"other.example.com"');
  });

  it("reports a compression pointer loop as DNS_MALFORMED", async () => {
    const peer = await dnsPeer((q, reply) => {
      const base = addressReply(q, []);
      const loop = Buffer.from(base);
      loop.writeUInt16BE(1, 6); // one answer...
      // ...whose name is a pointer to itself, then a pointer to that pointer.
      const at = loop.length;
      const answer = Buffer.from([0xc0, 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
      answer.writeUInt16BE(0xc000 | at, 0);
      reply(Buffer.concat([loop, answer]));
    });
    const { obs, finding } = await ask(peer);
    expect(obs.error).toBe("malformed");
    expect(finding.code).toBe("DNS_MALFORMED");
  });

  it("reports answers only for another name as DNS_MALFORMED, not NODATA", async () => {
    const peer = await dnsPeer((q, reply) =>
      reply(replyTo(q, [a("evil.example.com", "127.0.0.66")])),
    );
    const { obs, finding } = await ask(peer);
    expect(obs.addresses).toEqual([]);
    expect(obs.foreignAnswers).toBe(1);
    expect(finding.code).toBe("DNS_MALFORMED");
    expect(finding.message).toMatch(/other names/);
  });

  it("follows a short CNAME chain to the addresses", async () => {
    const peer = await dnsPeer((q, reply) =>
      reply(
        replyTo(q, [
          cname(NAME, "one.example"),
          cname("one.example", "two.example"),
          a("two.example", "127.0.0.1"),
        ]),
      ),
    );
    const { obs, finding } = await ask(peer);
    expect(finding.code).toBe("DNS_OK");
    expect(obs.cnames).toEqual(["one.example", "two.example"]);
  });

  it("stops a CNAME chain longer than the bound and reports DNS_MALFORMED", async () => {
    const names = [NAME, ...Array.from({ length: 12 }, (_, i) => `c${i}.example`)];
    const chain = names.slice(1).map((n, i) => cname(names[i]!, n));
    const peer = await dnsPeer((q, reply) =>
      reply(replyTo(q, [...chain, a(names.at(-1)!, "127.0.0.1")])),
    );
    const { obs, finding } = await ask(peer, { maxCnames: 8 });
    expect(obs.cnames).toHaveLength(8);
    expect(obs.addresses).toEqual([]);
    expect(finding.code).toBe("DNS_MALFORMED");
    expect(finding.message).toContain("CNAME chain longer than 8");
  });

  it("reports a CNAME loop as DNS_MALFORMED", async () => {
    const peer = await dnsPeer((q, reply) =>
      reply(replyTo(q, [cname(NAME, "x.example"), cname("x.example", NAME)])),
    );
    const { finding } = await ask(peer);
    expect(finding.code).toBe("DNS_MALFORMED");
    expect(finding.message).toContain("CNAME loop");
  });
});

describe("a hostile resolver over TCP", () => {
  const truncatedReply = (q: Buffer) => replyTo(q, [], { flags: 1 << 9 }); // TC

  it("reports garbage over TCP after a truncated UDP reply as DNS_MALFORMED", async () => {
    const peer = await dnsPeer(
      (q, reply) => reply(truncatedReply(q)),
      (socket) => socket.end(framed(Buffer.from("garbage over tcp, not a DNS message"))),
    );
    const { obs, finding } = await ask(peer);
    expect(obs.truncated).toBe(true);
    expect(obs.transport).toBe("tcp");
    expect(finding.code).toBe("DNS_MALFORMED");
  });

  it("takes a good TCP answer after a truncated UDP reply", async () => {
    const peer = await dnsPeer(
      (q, reply) => reply(truncatedReply(q)),
      (socket, first) => socket.end(framed(addressReply(first.subarray(2), ["127.0.0.1"]))),
    );
    const { obs, finding } = await ask(peer);
    expect(finding.code).toBe("DNS_OK");
    expect(obs).toMatchObject({ truncated: true, transport: "tcp", addresses: ["127.0.0.1"] });
  });

  it("cuts off a peer that streams endlessly after one reply and closes the connection", async () => {
    let written = 0;
    const peer = await dnsPeer(
      (q, reply) => reply(truncatedReply(q)),
      (socket) => {
        const pump = () => {
          while (!socket.destroyed && socket.write(randomBytes(16_384))) written += 16_384;
        };
        socket.on("drain", pump);
        pump();
      },
    );
    const { finding } = await ask(peer);
    expect(finding.code).toBe("DNS_MALFORMED");
    await expect.poll(() => peer.closed).toBe(1);
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it("times out on a length prefix that is never fulfilled, and says how far it got", async () => {
    const peer = await dnsPeer(
      (q, reply) => reply(truncatedReply(q)),
      (socket) => socket.write(Buffer.from([0x02, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])),
    );
    const { obs, finding } = await ask(peer);
    expect(finding.code).toBe("DNS_TIMEOUT");
    expect(obs.errorDetail).toContain("10 of 512 bytes");
    await expect.poll(() => peer.closed).toBe(1);
  });

  it("reports a TCP reply cut short by the peer closing as DNS_MALFORMED", async () => {
    const peer = await dnsPeer(
      (q, reply) => reply(truncatedReply(q)),
      (socket, first) =>
        socket.end(framed(addressReply(first.subarray(2), ["127.0.0.1"])).subarray(0, 20)),
    );
    const { obs, finding } = await ask(peer);
    expect(finding.code).toBe("DNS_MALFORMED");
    expect(obs.errorDetail).toMatch(/closed after 20 bytes/);
  });

  it("falls back to TCP when UDP is silent, and reports TCP garbage as DNS_MALFORMED", async () => {
    const peer = await dnsPeer(
      () => {},
      (socket) => socket.end(framed(Buffer.alloc(30, 0xff))),
    );
    const { obs, finding } = await ask(peer);
    expect(obs.transport).toBe("tcp");
    expect(finding.code).toBe("DNS_MALFORMED");
  });

  it("reports silence on both transports as DNS_TIMEOUT within the timeout", async () => {
    const peer = await dnsPeer(
      () => {},
      () => {},
    );
    const { finding } = await ask(peer);
    expect(finding.code).toBe("DNS_TIMEOUT");
    await expect.poll(() => peer.closed).toBe(1);
  });

  it("parses the query it is sent (sanity check of the test peer)", async () => {
    let seen = "";
    const peer = await dnsPeer((q, reply) => {
      seen = parseQuery(q).questions?.[0]?.name ?? "";
      reply(addressReply(q, ["127.0.0.1"]));
    });
    await ask(peer);
    expect(seen).toBe(NAME);
  });
});
