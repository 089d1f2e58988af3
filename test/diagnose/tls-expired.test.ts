// TLS_CERT_EXPIRED over real sockets: a loopback TLS server with a leaf of a throwaway CA whose
// dates this host's clock is outside of.
import net from "node:net";
import tls from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { classifyTls } from "../../src/diagnose/classify.js";
import { probeTcp } from "../../src/probes/tcp.js";
import { probeTls } from "../../src/probes/tls.js";
import { datedLeaf, simulatorCerts } from "../../src/simulator/certs.js";

const NAME = "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com";
const DAY = 24 * 60 * 60 * 1000;
const servers: net.Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
});

async function serve(from: Date, to: Date): Promise<number> {
  const leaf = datedLeaf([NAME], from, to);
  const server = tls.createServer({ cert: leaf.cert, key: leaf.key }, (s) => s.end());
  server.on("tlsClientError", () => {});
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

async function handshake(port: number, insecure = false) {
  const ctx = { signal: new AbortController().signal, timeoutMs: 2000 };
  const tcp = await probeTcp(ctx, { address: "127.0.0.1", port });
  if (!tcp.socket) throw new Error(`no connection: ${tcp.observation.errno}`);
  const ca = simulatorCerts(NAME, "us-east-1").caPem;
  const handshake = await probeTls(ctx, {
    socket: tcp.socket,
    servername: NAME,
    secureContext: tls.createSecureContext({ ca }),
  });
  handshake.socket?.destroy();
  return classifyTls(handshake.observation, "127.0.0.1", { total: 0 }, insecure);
}

describe("a certificate outside its dates", () => {
  it("is TLS_CERT_EXPIRED when expired, with its dates and this host's time", async () => {
    const from = new Date(Date.now() - 30 * DAY);
    const to = new Date(Date.now() - 2 * DAY);
    const f = await handshake(await serve(from, to));
    expect(f.code).toBe("TLS_CERT_EXPIRED");
    expect(f.status).toBe("fail");
    expect(f.evidence.authorizationError).toBe("CERT_HAS_EXPIRED");
    expect(new Date(f.evidence.validTo ?? "").getTime()).toBe(
      Math.floor(to.getTime() / 1000) * 1000,
    );
    expect(f.evidence.localTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(f.message).toContain("expired (CERT_HAS_EXPIRED)");
    expect(f.message).toContain(f.evidence.validTo);
    expect(f.message).toContain("this host's clock says");
    expect(f.hint).toMatch(/clock/);
    expect(f.hint).not.toMatch(/TLS-inspecting proxy is in the path/);
  });

  it("is TLS_CERT_EXPIRED when not yet valid", async () => {
    const f = await handshake(
      await serve(new Date(Date.now() + 2 * DAY), new Date(Date.now() + 30 * DAY)),
    );
    expect(f.code).toBe("TLS_CERT_EXPIRED");
    expect(f.evidence.authorizationError).toBe("CERT_NOT_YET_VALID");
    expect(f.message).toContain("not yet valid");
  });

  it("is reported but not a failure with --insecure", async () => {
    const f = await handshake(
      await serve(new Date(Date.now() - 30 * DAY), new Date(Date.now() - DAY)),
      true,
    );
    expect(f).toMatchObject({ code: "TLS_OK", status: "warn" });
    expect(f.evidence.insecureIgnored).toBe("TLS_CERT_EXPIRED");
  });

  it("is TLS_OK inside its dates (the same server, the same CA)", async () => {
    const f = await handshake(
      await serve(new Date(Date.now() - DAY), new Date(Date.now() + 30 * DAY)),
    );
    expect(f.code).toBe("TLS_OK");
  });
});
