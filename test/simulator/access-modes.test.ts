// The simulator's API Gateway answers for STRICT APIs and custom domain names, as pure replies.
import { describe, expect, it } from "vitest";
import {
  apiGatewayReply,
  type ApiIdentity,
  type CustomDomain,
} from "../../src/simulator/apigw-server.js";

const ENDPOINT = "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com";
const api = (apiId: string, strict = false): ApiIdentity => ({
  endpoint: ENDPOINT,
  apiId,
  region: "us-east-1",
  apiHost: `${apiId}.execute-api.us-east-1.amazonaws.com`,
  aliasHost: `${apiId}-vpce-0a1b2c3d4e5f60718.execute-api.us-east-1.amazonaws.com`,
  strict,
});
const stages = { prod: "ok" as const };
const basic = api("a1b2c3d4e5");
const strict = api("s1t2r3i4c5", true);
const get = (host: string, url: string, servername = host, apiIdHeader?: string) => ({
  method: "GET",
  url,
  host,
  servername,
  apiIdHeader,
});

describe("STRICT endpoint access mode", () => {
  it("refuses header mode and accepts the private DNS name and the alias with SNI = Host", () => {
    const served = { apis: [strict] };
    const header = apiGatewayReply(
      get(ENDPOINT, "/prod/", ENDPOINT, strict.apiId),
      basic,
      stages,
      served,
    );
    expect(header.status).toBe(403);
    expect(header.headers["x-amzn-ErrorType"]).toBe("ForbiddenException");
    expect(apiGatewayReply(get(strict.apiHost, "/prod/"), basic, stages, served).status).toBe(200);
    expect(apiGatewayReply(get(strict.aliasHost, "/prod/"), basic, stages, served).status).toBe(
      200,
    );
  });

  it("refuses SNI that differs from Host", () => {
    const reply = apiGatewayReply(get(strict.apiHost, "/prod/", ENDPOINT), basic, stages, {
      apis: [strict],
    });
    expect(reply.status).toBe(403);
  });

  it("leaves a BASIC API behind the same endpoint callable in header mode", () => {
    const reply = apiGatewayReply(get(ENDPOINT, "/prod/", ENDPOINT, basic.apiId), basic, stages, {
      apis: [strict],
    });
    expect(reply.status).toBe(200);
  });
});

describe("private custom domain names", () => {
  const domain = (associated: boolean): CustomDomain => ({
    name: "ledger.intra.example.com",
    associated,
    basePaths: { ledger: "prod" },
  });

  it("maps a base path to its stage when the endpoint has an association", () => {
    const served = { domains: [domain(true)] };
    const ok = apiGatewayReply(get("ledger.intra.example.com", "/ledger/"), basic, stages, served);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ ok: true, stage: "prod" });
    const unmapped = apiGatewayReply(
      get("ledger.intra.example.com", "/other/"),
      basic,
      stages,
      served,
    );
    expect(unmapped.status).toBe(403);
  });

  it("answers Forbidden without an association, whatever the path", () => {
    const reply = apiGatewayReply(get("ledger.intra.example.com", "/ledger/"), basic, stages, {
      domains: [domain(false)],
    });
    expect(reply.status).toBe(403);
    expect(reply.headers["x-amzn-RequestId"]).toBeDefined();
  });
});
