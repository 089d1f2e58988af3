// The trust store for a --ca-file is built once per CA content and shared by every target and
// every run (the daemon prepares its targets again at each reload): building one took 34-127 ms.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveSettings } from "../../src/config/load.js";
import { simulatorCerts } from "../../src/simulator/certs.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "apigw-diag-trust-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const target = (name: string) => ({
  name,
  endpoint: "vpce-0123456789abcdef-abcd1234.execute-api.us-east-1.vpce.amazonaws.com",
  apiId: "a1b2c3d4e5",
  stages: ["prod"],
});

describe("the trust store of a CA file", () => {
  it("is one context for every target and every load of the same CA, another for another CA", () => {
    const a = path.join(dir, "a.pem");
    const b = path.join(dir, "b.pem");
    const certs = simulatorCerts(target("one").endpoint, "us-east-1");
    writeFileSync(a, certs.caPem);
    writeFileSync(b, certs.server.cert); // another certificate: other content, another store
    const load = (caFile: string) =>
      resolveSettings({}, {}, { caFile, targets: [target("one"), target("two")] }).targets;
    const [one, two] = load(a);
    const [again] = load(a);
    const [other] = load(b);
    expect(one!.secureContext).toBeDefined();
    expect(two!.secureContext).toBe(one!.secureContext);
    expect(again!.secureContext).toBe(one!.secureContext);
    expect(other!.secureContext).not.toBe(one!.secureContext);
  });
});
