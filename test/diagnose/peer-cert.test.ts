// The peer certificate is converted once per certificate, and verification stays as strict:
// the name is checked on every handshake, the chain too, whatever was cached before.
import net from "node:net";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeTcp } from "../../src/probes/tcp.js";
import { probeTls, type TlsObservation } from "../../src/probes/tls.js";
import { simulatorCerts, type ServerIdentity } from "../../src/simulator/certs.js";
import { DEFAULT_ENDPOINT } from "../../src/simulator/index.js";

const certs = simulatorCerts(DEFAULT_ENDPOINT, "us-east-1");
const trusted = tls.createSecureContext({ ca: certs.caPem });
const servers: net.Server[] = [];

async function serve(identity: ServerIdentity): Promise<number> {
  const server = tls.createServer({ cert: identity.cert, key: identity.key }, (s) => s.end());
  server.on("tlsClientError", () => {});
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

let good: number;
let untrusted: number;
let wrongName: number;
beforeAll(async () => {
  [good, untrusted, wrongName] = await Promise.all([
    serve(certs.server),
    serve(certs.untrusted),
    serve(certs.wrongName),
  ]);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

interface Handshake extends TlsObservation {
  tlsSocket?: tls.TLSSocket;
}

async function handshake(port: number, servername = DEFAULT_ENDPOINT): Promise<Handshake> {
  const ctx = { signal: new AbortController().signal, timeoutMs: 5_000 };
  const tcp = await probeTcp(ctx, { address: "127.0.0.1", port });
  if (!tcp.socket) throw new Error(`no connection: ${tcp.observation.errno}`);
  const t = await probeTls(ctx, { socket: tcp.socket, servername, secureContext: trusted });
  t.socket?.destroy();
  return { ...t.observation, tlsSocket: t.socket };
}

describe("peer certificate, converted once per certificate", () => {
  it("gives every handshake with the same certificate the same object", async () => {
    const first = await handshake(good);
    const second = await handshake(good);
    expect(first.authorizationError).toBeUndefined();
    expect(first.hostnameError).toBeUndefined();
    expect(first.certificate?.subjectAltName).toContain(DEFAULT_ENDPOINT);
    expect(first.certificate?.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(second.certificate).toEqual(first.certificate);
    const a = first.tlsSocket?.getPeerCertificate(true);
    const b = second.tlsSocket?.getPeerCertificate(true);
    expect(a?.fingerprint256).toBe(first.certificate?.fingerprint256);
    expect(a?.issuerCertificate?.subject).toBeDefined(); // the chain, not the leaf alone
    expect(b).toBe(a); // built once: the cache answered the second handshake
  });

  it("shares one frozen summary of a certificate between handshakes (reports keep it)", async () => {
    const first = await handshake(good);
    const second = await handshake(good);
    const other = await handshake(wrongName);
    expect(second.certificate).toBe(first.certificate);
    expect(Object.isFrozen(first.certificate)).toBe(true);
    expect(other.certificate).not.toBe(first.certificate);
    expect(other.certificate?.fingerprint256).not.toBe(first.certificate?.fingerprint256);
  });

  it("still checks the name on every handshake, against a certificate seen before", async () => {
    await handshake(good);
    const other = await handshake(good, "other.example.com");
    expect(other.handshakeCompleted).toBe(true);
    expect(other.hostnameError).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    expect(other.tlsSocket?.authorized).toBe(false);
    const again = await handshake(good);
    expect(again.hostnameError).toBeUndefined();
    expect(again.tlsSocket?.authorized).toBe(true);
  });

  it("still verifies the chain and tells certificates apart", async () => {
    const ok = await handshake(good);
    const foreign = await handshake(untrusted);
    expect(foreign.authorizationError).toMatch(
      /UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED|UNABLE_TO_VERIFY/,
    );
    const wrong = await handshake(wrongName);
    expect(wrong.authorizationError).toBeUndefined();
    expect(wrong.hostnameError).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    expect(wrong.certificate?.fingerprint256).not.toBe(ok.certificate?.fingerprint256);
    expect(wrong.certificate?.subjectAltName).not.toBe(ok.certificate?.subjectAltName);
  });
});
