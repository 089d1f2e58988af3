import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";

const SILENCE_MS = 300; // how long "never answers" is waited for

type Outcome = { ok: true; socket: tls.TLSSocket } | { ok: false; code: string } | "timeout";

const open = new Set<net.Socket>();

function settle<T>(socket: net.Socket, run: (done: (v: T) => void) => void, silent: T) {
  open.add(socket);
  return new Promise<T>((resolve) => {
    const timer = setTimeout(() => resolve(silent), SILENCE_MS);
    run((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

function connectTcp(address: string, port: number): Promise<string> {
  const socket = net.connect({ host: address, port });
  return settle<string>(
    socket,
    (done) => {
      socket.once("connect", () => done("connected"));
      socket.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? "error"));
    },
    "timeout",
  );
}

function handshake(sim: Simulator, address: string, servername = sim.endpoint): Promise<Outcome> {
  const socket = tls.connect({ host: address, port: sim.port, servername, ca: sim.caPem });
  return settle<Outcome>(
    socket,
    (done) => {
      socket.once("secureConnect", () => done({ ok: true, socket }));
      socket.once("error", (e: NodeJS.ErrnoException) => done({ ok: false, code: e.code ?? "" }));
    },
    "timeout",
  );
}

/** A GET /prod in header mode; resolves with the status line and headers, an error code, or timeout. */
function request(sim: Simulator, address: string) {
  type Result = { status: number; headers: Record<string, unknown>; body: string } | string;
  return new Promise<Result>((resolve) => {
    const req = https.get({
      host: address,
      port: sim.port,
      path: "/prod",
      servername: sim.endpoint,
      ca: sim.caPem,
      headers: { host: sim.endpoint, "x-apigw-api-id": sim.apiId },
      agent: false,
    });
    req.once("socket", (s) => open.add(s));
    const timer = setTimeout(() => resolve("timeout"), SILENCE_MS);
    req.once("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(e.code ?? "error");
    });
    req.once("response", (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
  });
}

describe("per-address faults", () => {
  let sim: Simulator;
  let a: string;
  let b: string;

  beforeAll(async () => {
    sim = await startSimulator();
    [a, b] = sim.addresses as [string, string];
  });
  afterEach(() => {
    sim.setFaults({});
    for (const socket of open) socket.destroy();
    open.clear();
  });
  afterAll(() => sim.close());

  it("refuse: the SYN is refused and nothing is accepted; the other address still answers", async () => {
    sim.setFaults({ address: { [a]: "refuse" } });
    const before = sim.stats().connections;
    expect(await connectTcp(a, sim.port)).toBe("ECONNREFUSED");
    expect(sim.stats().connections).toBe(before);
    expect(await handshake(sim, b)).toMatchObject({ ok: true });
  });

  it("refuse, then cleared: the next connection is accepted again", async () => {
    sim.setFaults({ address: { [a]: "refuse" } });
    expect(await connectTcp(a, sim.port)).toBe("ECONNREFUSED");
    sim.setFaults({});
    expect(await connectTcp(a, sim.port)).toBe("connected");
    expect(await request(sim, a)).toMatchObject({ status: 200 });
  });

  it("refuse toggled within one tick: the last setting wins", async () => {
    sim.setFaults({ address: { [a]: "refuse" } });
    sim.setFaults({});
    sim.setFaults({ address: { [a]: "refuse" } });
    expect(await connectTcp(a, sim.port)).toBe("ECONNREFUSED");
    sim.setFaults({});
    expect(await connectTcp(a, sim.port)).toBe("connected");
  });

  it("tls-stall: TCP connects, the handshake never completes", async () => {
    sim.setFaults({ address: { [a]: "tls-stall" } });
    expect(await connectTcp(a, sim.port)).toBe("connected");
    expect(await handshake(sim, a)).toBe("timeout");
  });

  it("tls-reset: the connection is reset when the ClientHello arrives", async () => {
    sim.setFaults({ address: { [a]: "tls-reset" } });
    expect(await handshake(sim, a)).toEqual({ ok: false, code: "ECONNRESET" });
  });

  it("untrusted-cert: the chain ends in a CA the client does not trust, named for the proxy", async () => {
    sim.setFaults({ address: { [a]: "untrusted-cert" } });
    const outcome = await handshake(sim, a);
    expect(outcome).toMatchObject({ ok: false });
    const { code } = outcome as { code: string };
    expect(["SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"]).toContain(code);
    const peer = await peerCertificate(a);
    expect(peer.issuer.CN).toBe("Corp TLS Inspection CA");
    expect(peer.subjectaltname).toContain(`DNS:${sim.endpoint}`);
  });

  it("wrong-name: a trusted certificate that does not cover the name", async () => {
    sim.setFaults({ address: { [a]: "wrong-name" } });
    expect(await handshake(sim, a)).toEqual({ ok: false, code: "ERR_TLS_CERT_ALTNAME_INVALID" });
    expect((await peerCertificate(a)).subjectaltname).toBe("DNS:wrong.example.com");
  });

  it("http-stall: the handshake completes, the request is never answered", async () => {
    sim.setFaults({ address: { [a]: "http-stall" } });
    expect(await handshake(sim, a)).toMatchObject({ ok: true });
    expect(await request(sim, a)).toBe("timeout");
  });

  it("http-garbage: the handshake completes, the reply is not HTTP", async () => {
    sim.setFaults({ address: { [a]: "http-garbage" } });
    expect(String(await request(sim, a))).toMatch(/^HPE_/);
  });

  it("proxy-403: an HTML 403 with none of API Gateway's headers", async () => {
    sim.setFaults({ address: { [a]: "proxy-403" } });
    const answer = await request(sim, a);
    expect(answer).toMatchObject({ status: 403 });
    const { headers, body } = answer as { headers: Record<string, unknown>; body: string };
    expect(headers["content-type"]).toMatch(/^text\/html/);
    expect(Object.keys(headers).filter((h) => h.startsWith("x-amz"))).toEqual([]);
    expect(body).toContain("Access denied by policy");
  });

  it("a fault on one address leaves the other untouched", async () => {
    sim.setFaults({ address: { [a]: "tls-stall", [b]: null } });
    expect(await request(sim, b)).toMatchObject({ status: 200 });
  });

  it("rejects an unknown fault name", () => {
    expect(() => sim.setFaults({ address: { [a]: "bogus" as never } })).toThrow(/bogus/);
  });

  function peerCertificate(address: string): Promise<tls.PeerCertificate> {
    const socket = tls.connect({
      host: address,
      port: sim.port,
      servername: sim.endpoint,
      rejectUnauthorized: false, // only to read what was presented
    });
    open.add(socket);
    return new Promise((resolve, reject) => {
      socket.once("secureConnect", () => resolve(socket.getPeerCertificate()));
      socket.once("error", reject);
    });
  }
});
