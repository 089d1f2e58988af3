import dgram from "node:dgram";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import net from "node:net";
import tls from "node:tls";
import dnsPacket from "dns-packet";
import { describe, expect, it } from "vitest";
import { parseEndpoint, startSimulator, type Simulator } from "../../src/simulator/index.js";
import { loopbackAddresses } from "../../src/simulator/loopback.js";
import { UsageError } from "../../src/types.js";

const WAIT_MS = 1000; // upper bound for a peer to notice a close that already happened

const NETWORK_HANDLES = ["TCPServerWrap", "TCPSocketWrap", "TCPWrap", "UDPWrap", "TLSWrap"];
const networkHandles = () =>
  process.getActiveResourcesInfo().filter((r) => NETWORK_HANDLES.includes(r));

function closed(socket: net.Socket): Promise<boolean> {
  if (socket.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), WAIT_MS);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on("error", () => undefined);
  });
}

function connected(socket: net.Socket, event = "connect"): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once(event, () => resolve());
    socket.once("error", reject);
  });
}

function udpQuery(sim: Simulator, name: string, type: "A" | "AAAA"): Promise<dnsPacket.Packet> {
  const socket = dgram.createSocket("udp4");
  const query = dnsPacket.encode({ type: "query", id: 7, questions: [{ type, name }] });
  return new Promise<dnsPacket.Packet>((resolve) => {
    socket.once("message", (reply) => resolve(dnsPacket.decode(reply)));
    socket.send(query, sim.dns.port, sim.dns.host);
  }).finally(() => socket.close());
}

async function ipv6Loopback(): Promise<boolean> {
  const server = net.createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(0, "::1", () => resolve(true));
  });
  if (ok) await new Promise((resolve) => server.close(resolve));
  return ok;
}

/** The simulator's second address on this host, known before it starts (its faults name it). */
async function secondLoopback(): Promise<string> {
  const [, b] = await loopbackAddresses();
  if (!b) throw new Error("this host's loopback holds neither 127.0.0.2 nor ::1");
  return b;
}

describe("startSimulator", () => {
  it("derives the region, endpoint id and the API's names from the endpoint name", async () => {
    const sim = await startSimulator({
      endpoint: "vpce-0123456789abcdef0-wxyz9876.execute-api.eu-west-3.vpce.amazonaws.com",
      apiId: "q1w2e3r4t5",
    });
    await sim.close();
    expect(sim).toMatchObject({
      region: "eu-west-3",
      vpceId: "vpce-0123456789abcdef0",
      apiHost: "q1w2e3r4t5.execute-api.eu-west-3.amazonaws.com",
      aliasHost: "q1w2e3r4t5-vpce-0123456789abcdef0.execute-api.eu-west-3.amazonaws.com",
      // The two "AZs" this host's loopback holds: 127.0.0.2, or ::1 (macOS), beside 127.0.0.1.
      addresses: await loopbackAddresses(),
      dns: { host: "127.0.0.1" },
    });
  });

  it("has the documented defaults", async () => {
    const sim = await startSimulator();
    await sim.close();
    expect(sim.endpoint).toBe(
      "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com",
    );
    expect([sim.apiId, sim.region]).toEqual(["a1b2c3d4e5", "us-east-1"]);
    expect(sim.port).toBeGreaterThan(0);
    expect(sim.dns.port).toBeGreaterThan(0);
  });

  it("rejects a name that is not an execute-api interface endpoint", () => {
    expect(() => parseEndpoint("a1b2c3d4e5.execute-api.us-east-1.amazonaws.com")).toThrow(
      UsageError,
    );
  });

  it.each([
    [{ addresses: ["10.0.0.1"] }],
    [{ dnsHost: "192.168.1.1" }],
    [{ addresses: ["::"] }],
    [{ addresses: ["not-an-ip"] }],
    [{ addresses: [] }],
  ])("refuses to bind outside loopback: %j", async (opts) => {
    await expect(startSimulator(opts)).rejects.toBeInstanceOf(UsageError);
  });

  it("rejects an unknown stage behaviour", async () => {
    await expect(startSimulator({ stages: { prod: "bogus" as never } })).rejects.toThrow(/bogus/);
  });

  it("writes its CA to a private file that close() removes", async () => {
    const sim = await startSimulator();
    const mode = (await stat(sim.caFile)).mode & 0o777;
    const pem = await readFile(sim.caFile, "utf8");
    await sim.close();
    expect(mode).toBe(0o600);
    expect(pem).toBe(sim.caPem);
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(existsSync(sim.caFile)).toBe(false);
  });

  it("applies the faults it starts with", async () => {
    const b = await secondLoopback();
    const sim = await startSimulator({
      faults: { dns: "nxdomain", address: { [b]: "refuse" } },
    });
    const reply = await udpQuery(sim, sim.endpoint, "A");
    const socket = net.connect({ host: b, port: sim.port });
    const refused = await connected(socket).catch((e: NodeJS.ErrnoException) => e.code);
    await sim.close();
    expect(reply.flags! & 0xf).toBe(3);
    expect(refused).toBe("ECONNREFUSED");
    expect(sim.stats()).toEqual({ dnsQueries: 1, zonalDnsQueries: 0, connections: 0, requests: 0 });
  });

  it("fails cleanly when a fixed port is taken", async () => {
    const first = await startSimulator();
    try {
      await expect(startSimulator({ httpsPort: first.port })).rejects.toMatchObject({
        code: "EADDRINUSE",
      });
      await expect(startSimulator({ dnsPort: first.dns.port })).rejects.toMatchObject({
        code: "EADDRINUSE",
      });
    } finally {
      await first.close();
    }
  });

  it("serves the endpoint's IPv6 addresses over AAAA when it has some", async (ctx) => {
    if (!(await ipv6Loopback())) return ctx.skip();
    const sim = await startSimulator({ addresses: ["127.0.0.1", "::1"] });
    const aaaa = await udpQuery(sim, sim.endpoint, "AAAA");
    const socket = tls.connect({
      host: "::1",
      port: sim.port,
      servername: sim.endpoint,
      ca: sim.caPem,
    });
    await connected(socket, "secureConnect");
    socket.destroy();
    await sim.close();
    expect(aaaa.answers?.map((a) => ("data" in a ? a.data : null))).toEqual(["::1"]);
  });

  it("close() ends every connection, even stalled ones, and leaves no handle open", async () => {
    const baseline = networkHandles();
    const b = await secondLoopback();
    const sim = await startSimulator({ faults: { address: { [b]: "tls-stall" } } });
    const stalled = net.connect({ host: b, port: sim.port });
    const idleTls = tls.connect({
      host: "127.0.0.1",
      port: sim.port,
      servername: sim.endpoint,
      ca: sim.caPem,
    });
    const idleDns = net.connect({ host: sim.dns.host, port: sim.dns.port });
    await Promise.all([
      connected(stalled),
      connected(idleTls, "secureConnect"),
      connected(idleDns),
    ]);
    await Promise.all([sim.close(), sim.close()]);
    await sim.close();
    expect(await Promise.all([stalled, idleTls, idleDns].map(closed))).toEqual([true, true, true]);
    expect(networkHandles()).toEqual(baseline);
  });
});
