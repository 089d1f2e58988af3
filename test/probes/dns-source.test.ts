// The DNS probe takes a UDP answer only from the resolver it asked: its address and its port. An
// answer forged by another host, from the resolver's port, that arrives first is dropped.
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { probeDns } from "../../src/probes/dns.js";
import { addressReply } from "../hostile/servers.js";
import { hasSecondLoopback } from "../helpers.js";

const NAME = "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com";
const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

function bind(address: string, port = 0): Promise<dgram.Socket> {
  const s = dgram.createSocket("udp4");
  sockets.push(s);
  return new Promise((resolve, reject) => {
    s.once("error", reject);
    s.bind(port, address, () => resolve(s));
  });
}

const send = (s: dgram.Socket, bytes: Buffer, port: number, address: string) =>
  new Promise<void>((resolve, reject) =>
    s.send(bytes, port, address, (err) => (err ? reject(err) : resolve())),
  );

/**
 * A resolver on 127.0.0.1 and a forger on 127.0.0.2 with the same port. On each query, the forger
 * answers first (the right id and question: it sees the query, as an on-path host would), then
 * the resolver answers with `real`.
 */
async function raced(forged: string, real: string): Promise<{ port: number }> {
  const resolver = await bind("127.0.0.1");
  const { port } = resolver.address() as AddressInfo;
  const forger = await bind("127.0.0.2", port);
  resolver.on("message", (query, from) => {
    void send(forger, addressReply(query, [forged]), from.port, from.address).then(() =>
      send(resolver, addressReply(query, [real]), from.port, from.address),
    );
  });
  return { port };
}

describe("the DNS probe over UDP", () => {
  // The other host is 127.0.0.2: an IPv4 source other than 127.0.0.1, which macOS's loopback
  // does not hold unless aliased (an answer from ::1 could not reach this IPv4 socket at all).
  it.skipIf(!hasSecondLoopback)(
    "drops an answer from another host on the resolver's port, and takes the resolver's",
    async () => {
      const { port } = await raced("203.0.113.66", "10.20.1.10");
      const obs = await probeDns(
        { signal: new AbortController().signal, timeoutMs: 5_000 },
        { name: NAME, type: "A", resolver: { host: "127.0.0.1", port }, maxCnames: 8 },
      );
      expect(obs.error).toBeUndefined();
      expect(obs.transport).toBe("udp");
      expect(obs.addresses).toEqual(["10.20.1.10"]);
    },
  );

  it("takes the resolver's answer when its address is written another way (IPv4-mapped)", async () => {
    const resolver = await bind("127.0.0.1");
    const { port } = resolver.address() as AddressInfo;
    resolver.on("message", (query, from) => {
      void send(resolver, addressReply(query, ["10.20.2.10"]), from.port, from.address);
    });
    const obs = await probeDns(
      { signal: new AbortController().signal, timeoutMs: 5_000 },
      { name: NAME, type: "A", resolver: { host: "::ffff:127.0.0.1", port }, maxCnames: 8 },
    );
    expect(obs.addresses).toEqual(["10.20.2.10"]);
  });
});
