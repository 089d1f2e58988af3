// The daemon's door on loopback, with Node's own HTTPS client and a throwaway PKI: TLS, client
// certificates, basic auth against bcrypt hashes and the operator's headers, on every path.
import https from "node:https";
import type { OutgoingHttpHeaders } from "node:http";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BasicAuth } from "../../src/daemon/basic-auth.js";
import { startStatusServer, type Endpoints, type StatusServer } from "../../src/daemon/server.js";
import { loadWebConfig, type WebConfig } from "../../src/daemon/web-config.js";
import { doorPki, htpasswdHash, type DoorPki } from "./door-certs.js";

const PATHS = ["/", "/metrics", "/probe?target=x", "/healthz", "/report"];

const endpoints: Endpoints = {
  metrics: async () => ({ contentType: "text/plain; version=0.0.4", body: ["up 1\n"] }),
  health: () => ({ ok: true, detail: {} }),
  report: () => ({ targets: [] }),
  status: async () => "<p>status</p>",
  probe: async () => ({ status: 200, contentType: "text/plain", body: "probe\n" }),
};

let pki: DoorPki;
let hash: string;
const servers: StatusServer[] = [];

beforeAll(() => {
  pki = doorPki();
  hash = htpasswdHash("s3cret");
});
afterAll(() => pki.remove());
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(yaml: string): Promise<{ server: StatusServer; web: WebConfig }> {
  const web = await loadWebConfig(pki.write(`web-${servers.length}-${Date.now()}.yml`, yaml));
  const server = await startStatusServer(
    { host: "127.0.0.1", port: 0 },
    endpoints,
    pino({ level: "silent" }),
    web,
  );
  servers.push(server);
  return { server, web };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  protocol?: string | null;
}

function get(
  port: number,
  path: string,
  opts: {
    auth?: string;
    cert?: boolean;
    tls?: { minVersion?: "TLSv1.2" | "TLSv1.3"; maxVersion?: "TLSv1.2" | "TLSv1.3" };
  } = {},
): Promise<Answer> {
  const headers: OutgoingHttpHeaders = {};
  if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString("base64")}`;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        servername: "localhost",
        port,
        path,
        headers,
        ca: pki.caPem,
        agent: false,
        timeout: 5_000,
        ...(opts.cert ? { cert: pki.client.certPem, key: pki.client.keyPem } : {}),
        ...opts.tls,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            protocol: (res.socket as import("node:tls").TLSSocket).getProtocol?.(),
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

const tlsAndUsers = (extra = "") => `tls_server_config:
  cert_file: server.crt
  key_file: server.key
${extra}basic_auth_users:
  prometheus: ${hash}
`;

describe("the daemon's door", () => {
  it("asks every path for basic auth over TLS, and answers the right password", async () => {
    const { server } = await serve(tlsAndUsers());
    expect(server.scheme).toBe("https");
    for (const path of PATHS) {
      const without = await get(server.port, path);
      expect(without.status, path).toBe(401);
      expect(without.headers["www-authenticate"], path).toMatch(/^Basic/);
      expect(without.body).not.toContain("status");
      expect((await get(server.port, path, { auth: "prometheus:wrong" })).status, path).toBe(401);
      expect((await get(server.port, path, { auth: "nobody:s3cret" })).status, path).toBe(401);
      const ok = await get(server.port, path, { auth: "prometheus:s3cret" });
      expect(ok.status, path).toBe(200);
    }
  });

  it("answers the paths the file excludes from basic auth without it", async () => {
    const { server } = await serve(`${tlsAndUsers()}basic_auth_excluded_paths: [/healthz]\n`);
    expect((await get(server.port, "/healthz")).status).toBe(200);
    expect((await get(server.port, "/metrics")).status).toBe(401);
  });

  it("sends the file's headers with every answer, and keeps the page's own policy", async () => {
    const { server } = await serve(`${tlsAndUsers()}http_server_config:
  headers:
    Strict-Transport-Security: max-age=31536000
    X-Frame-Options: deny
    Content-Security-Policy: "default-src 'self'"
`);
    for (const answer of [
      await get(server.port, "/metrics"),
      await get(server.port, "/metrics", { auth: "prometheus:s3cret" }),
    ]) {
      expect(answer.headers["strict-transport-security"]).toBe("max-age=31536000");
      expect(answer.headers["x-frame-options"]).toBe("deny");
    }
    const page = await get(server.port, "/", { auth: "prometheus:s3cret" });
    // Two policies: the browser enforces both, so the page's own stays in force.
    expect(page.headers["content-security-policy"]).toMatch(
      /^default-src 'self', default-src 'none'/,
    );
  });

  it("requires a client certificate signed by the client CA with RequireAndVerifyClientCert", async () => {
    const { server } = await serve(
      tlsAndUsers(
        `  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: client-ca.crt\n`,
      ),
    );
    await expect(get(server.port, "/healthz", { auth: "prometheus:s3cret" })).rejects.toThrow();
    const ok = await get(server.port, "/healthz", { auth: "prometheus:s3cret", cert: true });
    expect(ok.status).toBe(200);
  });

  it("takes a client certificate that carries an allowed SAN", async () => {
    const { server } = await serve(
      tlsAndUsers(
        `  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: client-ca.crt\n  client_allowed_sans: [other.example, prometheus.monitoring.svc]\n`,
      ),
    );
    const ok = await get(server.port, "/healthz", { auth: "prometheus:s3cret", cert: true });
    expect(ok.status).toBe(200);
  });

  it("refuses a client certificate without an allowed SAN", async () => {
    const { server } = await serve(
      tlsAndUsers(
        `  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: client-ca.crt\n  client_allowed_sans: [other.example]\n`,
      ),
    );
    await expect(
      get(server.port, "/healthz", { auth: "prometheus:s3cret", cert: true }),
    ).rejects.toThrow();
  });

  it("refuses TLS 1.2 when min_version is TLS13", async () => {
    const { server } = await serve(tlsAndUsers(`  min_version: TLS13\n`));
    await expect(
      get(server.port, "/healthz", { auth: "prometheus:s3cret", tls: { maxVersion: "TLSv1.2" } }),
    ).rejects.toThrow(/version|alert/i);
    const ok = await get(server.port, "/healthz", { auth: "prometheus:s3cret" });
    expect(ok.protocol).toBe("TLSv1.3");
  });

  it("takes a reloaded file for the next request, and refuses one that needs a restart", async () => {
    const { server, web } = await serve(tlsAndUsers());
    const next = await loadWebConfig(
      pki.write("next.yml", tlsAndUsers().replace("prometheus:", "scraper:")),
    );
    server.setWebConfig(next);
    expect((await get(server.port, "/metrics", { auth: "prometheus:s3cret" })).status).toBe(401);
    expect((await get(server.port, "/metrics", { auth: "scraper:s3cret" })).status).toBe(200);
    const plain = await loadWebConfig(pki.write("plain.yml", `basic_auth_users:\n  a: ${hash}\n`));
    expect(() => server.setWebConfig(plain)).toThrow(/TLS on or off changes only with a restart/);
    expect(() => server.setWebConfig(undefined)).toThrow(/restart/);
    expect(web.tls).toBeDefined();
    expect((await get(server.port, "/metrics", { auth: "scraper:s3cret" })).status).toBe(200);
  });

  it("limits requests as rate_limit says", async () => {
    const { server } = await serve(`${tlsAndUsers()}rate_limit:\n  interval: 1h\n  burst: 2\n`);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(server.port, "/healthz")).status);
    expect(statuses).toEqual([401, 401, 429]);
  });
});

describe("basic auth", () => {
  it("answers a verified password again without a bcrypt, while bcrypts are queued", async () => {
    const auth = new BasicAuth(new Map([["prometheus", hash]]));
    const basic = (pair: string) => `Basic ${Buffer.from(pair).toString("base64")}`;
    expect(await auth.check(basic("prometheus:s3cret"))).toBe("ok");
    // Eight distinct wrong passwords fill the bcrypt queue; a ninth is told to come back...
    const wrong = Array.from({ length: 8 }, (_, i) => auth.check(basic(`prometheus:wrong${i}`)));
    expect(await auth.check(basic("prometheus:another"))).toBe("busy");
    // ...while the verified one is answered from its digest, past the queue.
    expect(await auth.check(basic("prometheus:s3cret"))).toBe("ok");
    expect(await Promise.all(wrong)).toEqual(Array(8).fill("denied"));
    // A refused password is remembered: asking again does not wait for the queue either.
    const again = Array.from({ length: 8 }, (_, i) => auth.check(basic(`prometheus:x${i}`)));
    expect(await auth.check(basic("prometheus:wrong0"))).toBe("denied");
    await Promise.all(again);
  });

  it("refuses malformed headers and unknown users", async () => {
    const auth = new BasicAuth(new Map([["prometheus", hash]]));
    for (const header of [undefined, "", "Bearer abc", "Basic !!!", `Basic ${btoa("nocolon")}`])
      expect(await auth.check(header)).toBe("denied");
    expect(await auth.check(`Basic ${btoa("root:s3cret")}`)).toBe("denied");
  });
});
