// Fuzzes the pure half of the DNS probe (decode, validation, CNAME chain, address cap) with
// random and mutated replies. Seeded, so a failing case can be replayed: the case number and
// seed are in the assertion message.
import net from "node:net";
import dnsPacket, { type Answer } from "dns-packet";
import { describe, expect, it } from "vitest";
import { classifyDns } from "../../src/diagnose/classify.js";
import { privateRanges } from "../../src/config/ranges.js";
import { observeReply, type DnsObservation } from "../../src/probes/dns.js";
import { FINDING_CODES } from "../../src/types.js";
import { prng } from "./servers.js";

const SEED = 0x5eed_0007;
const CASES = 20_000;
const NAME = "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com";
const ID = 0x1234;
const KNOWN = new Set<string>(FINDING_CODES);
const EXPECT = {
  id: ID,
  name: NAME,
  type: "A" as const,
  resolver: { host: "127.0.0.1", port: 53 },
  maxCnames: 4,
  maxAddresses: 8,
};

function seeds(): Buffer[] {
  const a = (name: string, data: string): Answer => ({ type: "A", name, ttl: 60, data });
  const cname = (name: string, data: string): Answer => ({ type: "CNAME", name, ttl: 60, data });
  const reply = (answers: Answer[], extra: Partial<dnsPacket.Packet> = {}) =>
    dnsPacket.encode({
      type: "response",
      id: ID,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: [{ type: "A", name: NAME, class: "IN" }],
      answers,
      ...extra,
    });
  return [
    reply([a(NAME, "10.0.1.5"), a(NAME, "10.0.2.5")]),
    reply([cname(NAME, "b.example"), cname("b.example", "c.example"), a("c.example", "10.0.0.9")]),
    reply([cname(NAME, "loop.example"), cname("loop.example", NAME)]),
    reply(Array.from({ length: 20 }, (_, i) => a(NAME, `10.9.0.${i}`))),
    reply([{ type: "AAAA", name: NAME, ttl: 60, data: "fd00::1" }]),
    reply([{ type: "TXT", name: NAME, ttl: 60, data: "hello" }]),
    reply([], {
      authorities: [
        {
          type: "SOA",
          name: "amazonaws.com",
          ttl: 60,
          data: {
            mname: "ns.example",
            rname: "host.example",
            serial: 1,
            refresh: 1,
            retry: 1,
            expire: 1,
            minimum: 1,
          },
        },
      ],
    }),
    reply([a(NAME, "1.2.3.4")], {
      additionals: [
        {
          type: "OPT",
          name: ".",
          udpPayloadSize: 4096,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [],
        },
      ],
    }),
  ];
}

/** One of several mutations: flips, overwrites, cuts, insertions, splices and stray pointers. */
function mutate(buf: Buffer, rand: () => number): Buffer {
  const int = (n: number) => Math.floor(rand() * n);
  let out = Buffer.from(buf);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    const at = int(out.length + 1);
    switch (int(7)) {
      case 0: // flip a bit
        if (out.length) out[at % out.length]! ^= 1 << int(8);
        break;
      case 1: // overwrite a byte
        if (out.length) out[at % out.length] = int(256);
        break;
      case 2: // cut the tail
        out = out.subarray(0, at);
        break;
      case 3: // insert random bytes
        out = Buffer.concat([
          out.subarray(0, at),
          Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256))),
          out.subarray(at),
        ]);
        break;
      case 4: // duplicate a slice somewhere else
        out = Buffer.concat([
          out.subarray(0, at),
          out.subarray(int(out.length), int(out.length + 1)),
          out.subarray(at),
        ]);
        break;
      case 5: // a compression pointer anywhere, to anywhere (loops, forward jumps)
        if (out.length > 1) out.writeUInt16BE(0xc000 | int(out.length + 16), at % (out.length - 1));
        break;
      case 6: // a huge count in the header
        if (out.length >= 12) out.writeUInt16BE(int(65_536), 4 + 2 * int(4));
        break;
    }
  }
  return out;
}

/** What is wrong with an observation's shape, if anything (plain checks: expect() is slow). */
function shapeProblem(o: DnsObservation): string | undefined {
  const checks: [boolean, string][] = [
    [typeof o.resolver === "string", "resolver"],
    [o.name === NAME, "name"],
    [typeof o.truncated === "boolean", "truncated"],
    [Array.isArray(o.addresses) && o.addresses.every((x) => net.isIP(x) !== 0), "addresses"],
    [o.addresses.length <= EXPECT.maxAddresses, "address cap"],
    [o.cnames.length <= EXPECT.maxCnames, "cname bound"],
    [o.cnames.every((c) => typeof c === "string"), "cnames"],
    [Number.isInteger(o.foreignAnswers), "foreignAnswers"],
    [[undefined, "malformed", "mismatch"].includes(o.error), "error"],
    [!o.error || o.addresses.length === 0, "addresses despite an error"],
    [o.rcode === undefined || typeof o.rcode === "string", "rcode"],
  ];
  return checks.find(([ok]) => !ok)?.[1];
}

describe("DNS reply decoding under fuzzing", () => {
  it(`survives ${CASES} random and mutated replies (seed ${SEED.toString(16)})`, () => {
    const rand = prng(SEED);
    const valid = seeds();
    const codes = new Set<string>();
    const failures: string[] = [];
    const ranges = privateRanges([]);
    for (let i = 0; i < CASES; i++) {
      const where = `case ${i}, seed ${SEED.toString(16)}`;
      const kind = i % 4;
      const bytes =
        kind === 0
          ? Buffer.from(
              Array.from({ length: Math.floor(rand() * 600) }, () => Math.floor(rand() * 256)),
            )
          : mutate(valid[Math.floor(rand() * valid.length)]!, rand);
      let problem: string | undefined;
      try {
        const obs = observeReply(bytes, kind === 1 ? "tcp" : "udp", EXPECT);
        const f = classifyDns([obs], ranges);
        problem = shapeProblem(obs);
        if (!problem && (!KNOWN.has(f.code) || f.layer !== "dns")) problem = `code ${f.code}`;
        codes.add(f.code);
      } catch (err) {
        problem = `threw ${String(err)}`;
      }
      if (problem) failures.push(`${where}: ${problem} (${bytes.toString("hex")})`);
    }
    expect(failures.slice(0, 5)).toEqual([]);
    // The mutations reach past the decoder: several outcomes, not only MALFORMED.
    expect(codes).toContain("DNS_MALFORMED");
    expect(codes).toContain("DNS_OK");
    expect(codes.size).toBeGreaterThanOrEqual(4);
  });

  it("accepts every unmutated seed reply without an error", () => {
    for (const bytes of seeds()) {
      const o = observeReply(bytes, "udp", EXPECT);
      expect(shapeProblem(o)).toBeUndefined();
      expect(o.error === undefined || o.errorDetail?.includes("CNAME loop")).toBe(true);
    }
  });
});
