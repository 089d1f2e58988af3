// The simulator's faults for issue 23's checks, seen from a plain client over real sockets, real
// TLS and real DNS packets on loopback: what each one answers, and what it leaves alone.
import dgram from "node:dgram";
import https from "node:https";
import tls from "node:tls";
import dnsPacket from "dns-packet";
import type { RecordType, StringAnswer } from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";

interface Answer {
  status: number;
  type: string | undefined;
  body: string;
}

/** One HTTPS GET straight to the simulator's first address, SNI and Host = `host`. */
function get(sim: Simulator, host: string, path = "/prod/", apiId?: string): Promise<Answer> {
  const headers: Record<string, string> = { host };
  if (apiId) headers["x-apigw-api-id"] = apiId;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: sim.addresses[0],
        port: sim.port,
        servername: host,
        ca: sim.caPem,
        path,
        headers,
        agent: false,
        timeout: 5_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          const type = res.headers["x-amzn-errortype"];
          resolve({ status: res.statusCode ?? 0, type: type as string | undefined, body });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer")));
    req.on("error", reject);
    req.end();
  });
}

/** One DNS question over UDP to the simulator's resolver: the rcode and the addresses. */
function resolve(sim: Simulator, name: string, type: RecordType): Promise<[number, string[]]> {
  const socket = dgram.createSocket("udp4");
  const message = dnsPacket.encode({
    type: "query",
    id: 7,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name }],
  });
  return new Promise<[number, string[]]>((done, fail) => {
    const timer = setTimeout(() => fail(new Error("no DNS reply")), 2_000);
    socket.once("message", (reply) => {
      clearTimeout(timer);
      const packet = dnsPacket.decode(reply);
      const rcode = (packet.flags ?? 0) & 0xf;
      const data = (packet.answers ?? []).map((a) => (a as StringAnswer).data);
      done([rcode, data]);
    });
    socket.send(message, sim.dns.port, sim.dns.host);
  }).finally(() => socket.close());
}

describe("simulator: a STRICT refusal answered 421", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ accessMode: "STRICT", strictRefusal: 421 });
  });
  afterAll(() => sim.close());

  it("answers header mode 421 Misdirected Request, without an error type it would make up", async () => {
    const a = await get(sim, sim.endpoint, "/prod/", sim.apiId);
    expect(a.status).toBe(421);
    expect(a.type).toBeUndefined();
    expect(a.body).toMatch(/Misdirected Request/);
  });

  it("answers the private DNS name and the alias 200", async () => {
    expect((await get(sim, sim.apiHost)).status).toBe(200);
    expect((await get(sim, sim.aliasHost)).status).toBe(200);
  });
});

describe("simulator: the default endpoint disabled", () => {
  let sim: Simulator;
  const domain = "ledger.intra.example.com";
  beforeAll(async () => {
    sim = await startSimulator({
      defaultEndpointDisabled: true,
      domains: [{ name: domain, associated: true, basePaths: { "": "prod" } }],
    });
  });
  afterAll(() => sim.close());

  it("answers 403 Forbidden in every mode but the custom domain", async () => {
    for (const a of [
      await get(sim, sim.endpoint, "/prod/", sim.apiId),
      await get(sim, sim.apiHost),
      await get(sim, sim.aliasHost),
    ]) {
      expect(a.status).toBe(403);
      expect(a.type).toBe("ForbiddenException");
    }
    expect((await get(sim, domain, "/")).status).toBe(200);
  });
});

describe("simulator: customized and domain-policy refusals", () => {
  let sim: Simulator;
  const domain = "denied.intra.example.com";
  beforeAll(async () => {
    sim = await startSimulator({
      stages: { prod: "missing-token-404", v2: "ok" },
      domains: [{ name: domain, associated: true, basePaths: { "": "v2" }, policy: "deny-all" }],
    });
  });
  afterAll(() => sim.close());

  it("answers MISSING_AUTHENTICATION_TOKEN customized to 404, keeping its error type", async () => {
    const a = await get(sim, sim.endpoint, "/prod/", sim.apiId);
    expect(a.status).toBe(404);
    expect(a.type).toBe("MissingAuthenticationTokenException");
    expect(a.body).toBe('{"message":"Missing Authentication Token"}');
  });

  it("answers a deny-all domain policy with an explicit deny on the domain's ARN", async () => {
    const a = await get(sim, domain, "/");
    expect(a.status).toBe(403);
    expect(a.type).toBe("AccessDeniedException");
    expect(a.body).toMatch(
      /not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:[*0-9]+:\/domainnames\/denied\.intra\.example\.com\+\w+ with an explicit deny/,
    );
    // The API behind it answers: the domain's own policy is what refuses.
    expect((await get(sim, sim.apiHost, "/v2/")).status).toBe(200);
  });
});

describe("simulator: DNS faults of issue 23", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ addresses: ["127.0.0.1", "::1"] });
  });
  afterAll(() => sim.close());

  it("zone-forward answers any API id of the region with the endpoint's addresses", async () => {
    const made = "zq9x8w7v6u.execute-api.us-east-1.amazonaws.com";
    sim.setFaults({});
    expect((await resolve(sim, made, "A"))[0]).toBe(3); // NXDOMAIN
    sim.setFaults({ dns: "zone-forward" });
    expect(await resolve(sim, made, "A")).toEqual([0, ["127.0.0.1"]]);
    expect(await resolve(sim, made, "AAAA")).toEqual([0, ["::1"]]);
    // Another region's zone is not the one forwarded.
    expect((await resolve(sim, "zq9x8w7v6u.execute-api.eu-west-1.amazonaws.com", "A"))[0]).toBe(3);
    sim.setFaults({});
  });

  it("aaaa-only answers A with no data and AAAA with the endpoint's IPv6 addresses", async () => {
    sim.setFaults({ dns: "aaaa-only" });
    expect(await resolve(sim, sim.endpoint, "A")).toEqual([0, []]);
    expect(await resolve(sim, sim.endpoint, "AAAA")).toEqual([0, ["::1"]]);
    sim.setFaults({});
    expect(await resolve(sim, sim.endpoint, "A")).toEqual([0, ["127.0.0.1"]]);
  });
});

describe("simulator: a TLS 1.3-only policy", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ addresses: ["127.0.0.1"], tlsMinVersion: "TLSv1.3" });
  });
  afterAll(() => sim.close());

  const handshake = (maxVersion: tls.SecureVersion) =>
    new Promise<string>((done) => {
      const socket = tls.connect({
        host: "127.0.0.1",
        port: sim.port,
        servername: sim.endpoint,
        ca: sim.caPem,
        maxVersion,
      });
      socket.once("secureConnect", () => {
        done(socket.getProtocol() ?? "?");
        socket.destroy();
      });
      socket.once("error", (err: NodeJS.ErrnoException) => done(err.code ?? "error"));
    });

  it("completes a TLS 1.3 handshake and refuses one limited to TLS 1.2", async () => {
    expect(await handshake("TLSv1.3")).toBe("TLSv1.3");
    expect(await handshake("TLSv1.2")).toMatch(/ERR_SSL|ECONNRESET|PROTOCOL/);
  });
});
