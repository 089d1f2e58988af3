import https from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, STAGE_BEHAVIOURS, type Simulator } from "../../src/simulator/index.js";

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Ask {
  address?: string;
  host?: string;
  /** TLS server name; default: the Host. */
  sni?: string;
  path?: string;
  method?: string;
  apiId?: string | null;
}

/** One HTTPS request straight to an address (no name lookup), SNI and Host set as asked. */
function ask(sim: Simulator, opts: Ask = {}): Promise<Answer> {
  const host = opts.host ?? sim.endpoint;
  const apiId = opts.apiId === undefined ? sim.apiId : opts.apiId;
  const headers: Record<string, string> = { host };
  if (apiId !== null) headers["x-apigw-api-id"] = apiId;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: opts.address ?? sim.addresses[0],
        port: sim.port,
        servername: opts.sni ?? host,
        ca: sim.caPem,
        method: opts.method ?? "GET",
        path: opts.path ?? "/prod",
        headers,
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FORBIDDEN = { status: 403, type: "ForbiddenException", body: '{"message":"Forbidden"}' };
const MISSING_TOKEN = {
  status: 403,
  type: "MissingAuthenticationTokenException",
  body: '{"message":"Missing Authentication Token"}',
};

function expectApiGateway(answer: Answer): void {
  expect(answer.headers["x-amzn-requestid"]).toMatch(UUID);
  expect(answer.headers["x-amz-apigw-id"]).toMatch(/^[A-Za-z0-9+/=]{8,}$/);
  expect(answer.headers["content-type"]).toBe("application/json");
}

function expectError(answer: Answer, expected: { status: number; type: string; body: string }) {
  expectApiGateway(answer);
  expect(answer.status).toBe(expected.status);
  expect(answer.headers["x-amzn-errortype"]).toBe(expected.type);
  expect(answer.body).toBe(expected.body);
}

describe("simulated API Gateway", () => {
  let sim: Simulator;
  // One stage per behaviour, named after it, plus the default ones.
  const stages = Object.fromEntries(STAGE_BEHAVIOURS.map((b) => [b, b]));

  beforeAll(async () => {
    sim = await startSimulator({ stages: { prod: "ok", v2: "ok", ...stages } });
  });
  afterAll(() => sim.close());

  describe("routing", () => {
    it("answers 200 through every address in header mode", async () => {
      for (const address of sim.addresses) {
        const answer = await ask(sim, { address, path: "/prod/" });
        expectApiGateway(answer);
        expect(answer.headers["x-amzn-errortype"]).toBeUndefined();
        expect([answer.status, JSON.parse(answer.body)]).toEqual([
          200,
          { ok: true, stage: "prod" },
        ]);
      }
    });

    it("selects the API by its private DNS name or alias, with no header", async () => {
      for (const host of [sim.apiHost, sim.aliasHost, sim.aliasHost.toUpperCase()]) {
        const answer = await ask(sim, { host, apiId: null, path: "/v2" });
        expect([answer.status, answer.body]).toEqual([200, '{"ok":true,"stage":"v2"}']);
      }
    });

    it("forbids the endpoint name without x-apigw-api-id, or with another API's id", async () => {
      expectError(await ask(sim, { apiId: null }), FORBIDDEN);
      expectError(await ask(sim, { apiId: "zzzzzzzzzz" }), FORBIDDEN);
    });

    it("forbids a Host that names neither the endpoint nor the API", async () => {
      expectError(await ask(sim, { host: "example.com", sni: sim.endpoint }), FORBIDDEN);
    });

    it("forbids a stage that is not deployed, and the root", async () => {
      expectError(await ask(sim, { path: "/staging" }), FORBIDDEN);
      expectError(await ask(sim, { path: "/" }), FORBIDDEN);
    });

    it("answers Missing Authentication Token for another resource or method", async () => {
      expectError(await ask(sim, { path: "/prod/orders" }), MISSING_TOKEN);
      expectError(await ask(sim, { method: "POST" }), MISSING_TOKEN);
    });

    it("ignores the query string", async () => {
      expect((await ask(sim, { path: "/prod/?x=1" })).status).toBe(200);
    });

    it("uses stages set while running", async () => {
      sim.setStages({ prod: "throttled" });
      const prod = await ask(sim);
      const v2 = await ask(sim, { path: "/v2" });
      sim.setStages({ prod: "ok", v2: "ok", ...stages });
      expect(prod.status).toBe(429);
      expectError(v2, FORBIDDEN);
    });
  });

  describe("stage behaviours", () => {
    const policy = (suffix: string) =>
      JSON.stringify({
        Message:
          "User: anonymous is not authorized to perform: execute-api:Invoke on resource: " +
          `arn:aws:execute-api:us-east-1:********1234:a1b2c3d4e5/${suffix}`,
      });

    it.each([
      ["forbidden", FORBIDDEN],
      ["missing-token", MISSING_TOKEN],
      [
        "deny",
        {
          status: 403,
          type: "AccessDeniedException",
          body: policy("deny/GET/ with an explicit deny in a resource-based policy"),
        },
      ],
      ["no-allow", { status: 403, type: "AccessDeniedException", body: policy("no-allow/GET/") }],
      [
        "unauthorized",
        { status: 401, type: "UnauthorizedException", body: '{"message":"Unauthorized"}' },
      ],
      [
        "throttled",
        { status: 429, type: "TooManyRequestsException", body: '{"message":"Too Many Requests"}' },
      ],
      [
        "backend-error",
        {
          status: 502,
          type: "InternalServerErrorException",
          body: '{"message": "Internal server error"}',
        },
      ],
    ])("%s answers as API Gateway does", async (stage, expected) => {
      expectError(await ask(sim, { path: `/${stage}` }), expected);
    });

    it("ok answers 200 with the stage", async () => {
      const answer = await ask(sim, { path: "/ok" });
      expectApiGateway(answer);
      expect([answer.status, answer.body]).toEqual([200, '{"ok":true,"stage":"ok"}']);
    });
  });

  it("counts connections and requests", async () => {
    const before = sim.stats();
    await ask(sim);
    await ask(sim, { address: sim.addresses[1] });
    const after = sim.stats();
    expect(after.connections - before.connections).toBe(2);
    expect(after.requests - before.requests).toBe(2);
    expect(after.dnsQueries).toBe(before.dnsQueries);
  });
});
