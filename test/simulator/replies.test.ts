// The simulator's reply model against answers API Gateway really sent (test/fixtures/apigw/):
// its status, error type, body shape and message must be the real ones, or the tests that use
// the simulator would only prove the classifier agrees with itself.
import { describe, expect, it } from "vitest";
import { httpCode, errorMessage } from "../../src/diagnose/classify.js";
import { apiGatewayReply, type ApiIdentity } from "../../src/simulator/apigw-server.js";
import type { StageBehaviour } from "../../src/simulator/faults.js";
import { asObservation, fixture, type ApigwFixture } from "../fixtures/apigw.js";

const api: ApiIdentity = {
  endpoint: "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com",
  apiId: "a1b2c3d4e5",
  region: "us-east-1",
  apiHost: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
  aliasHost: "a1b2c3d4e5-vpce-0a1b2c3d4e5f60718.execute-api.us-east-1.amazonaws.com",
};

/** Each behaviour, and the real answer it stands for. */
const PAIRS: [StageBehaviour, string][] = [
  ["forbidden", "private-api-forbidden-no-api-id"],
  ["missing-token", "missing-authentication-token"],
  ["no-allow", "resource-policy-no-allow-anonymous"],
  ["deny", "resource-policy-explicit-deny-new-form"],
  ["unauthorized", "unauthorized-401"],
  ["throttled", "throttled-429"],
  ["backend-error", "private-api-500-internal-server-error"],
];

function reply(behaviour: StageBehaviour) {
  const stage = behaviour;
  return apiGatewayReply(
    { method: "GET", url: `/${stage}/`, host: api.endpoint, apiIdHeader: api.apiId },
    api,
    { [stage]: behaviour },
  );
}

const header = (headers: Record<string, string>, name: string): string | undefined =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];

/** The message with what differs between two APIs (account, API id, stage, path) blanked. */
const shape = (message: string) =>
  message.replace(/arn:aws:execute-api:\S+/g, "<arn>").replace(/User: \S+ is/, "User: <caller> is");

/** Which key carries the message: API Gateway writes `message`, and `Message` for AccessDenied. */
const messageKey = (body: string): string | undefined => {
  try {
    return Object.keys(JSON.parse(body) as object)[0];
  } catch {
    return undefined;
  }
};

describe("the simulator's replies, against real API Gateway answers", () => {
  it.each(PAIRS)("answers %s as API Gateway does (%s)", (behaviour, name) => {
    const real: ApigwFixture = fixture(name);
    const sim = reply(behaviour);
    const realStatus = real.status;
    if (realStatus >= 500) expect(sim.status).toBeGreaterThanOrEqual(500);
    else expect(sim.status).toBe(realStatus);
    expect(header(sim.headers, "x-amzn-errortype")).toBe(header(real.headers, "x-amzn-errortype"));
    expect(header(sim.headers, "content-type") ?? "").toMatch(/^application\/json/);
    expect(messageKey(sim.body)).toBe(messageKey(real.body));
    expect(shape(errorMessage(sim.body))).toBe(shape(errorMessage(real.body)));
    // The same answer must land on the same code as the real one.
    expect(httpCode(asObservation({ ...real, ...sim }), [])).toBe(real.expect.code);
  });

  it("writes the ids in the formats API Gateway uses", () => {
    const real = fixture("private-api-forbidden-no-api-id");
    const sim = reply("forbidden");
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const apigwId = /^[A-Za-z0-9+/_-]{15}=$/;
    for (const headers of [real.headers, sim.headers]) {
      expect(header(headers, "x-amzn-requestid")).toMatch(uuid);
      expect(header(headers, "x-amz-apigw-id")).toMatch(apigwId);
    }
  });

  it("answers the real Forbidden byte for byte", () => {
    expect(reply("forbidden").body).toBe(fixture("private-api-forbidden-no-api-id").body);
    expect(reply("backend-error").body).toBe(fixture("private-api-500-internal-server-error").body);
  });
});
