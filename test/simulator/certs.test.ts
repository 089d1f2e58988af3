import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { endpointNames, simulatorCerts } from "../../src/simulator/certs.js";

const ENDPOINT = "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com";
const API_HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
const ALIAS_HOST = "a1b2c3d4e5-vpce-0a1b2c3d4e5f60718.execute-api.us-east-1.amazonaws.com";

/** The certificates of a PEM chain, leaf first. */
function chain(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

describe("simulator certificates", () => {
  const certs = simulatorCerts(ENDPOINT, "us-east-1");
  const ca = new X509Certificate(certs.caPem);
  const [server] = chain(certs.server.cert);
  const [proxied, proxyCa] = chain(certs.untrusted.cert);
  const [wrong] = chain(certs.wrongName.cert);

  it("makes a self-signed CA", () => {
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
  });

  it("signs a server certificate that covers the endpoint and every API name, like AWS's", () => {
    expect(server!.ca).toBe(false);
    expect(server!.verify(ca.publicKey)).toBe(true);
    expect(server!.checkIssued(ca)).toBe(true);
    // checkHost answers with the name that matched, wildcard or not.
    for (const name of [ENDPOINT, API_HOST, ALIAS_HOST])
      expect(server!.checkHost(name)).toBeDefined();
    expect(server!.subjectAltName?.split(", ")).toEqual(
      endpointNames(ENDPOINT, "us-east-1").map((n) => `DNS:${n}`),
    );
    expect(server!.keyUsage).toContain("1.3.6.1.5.5.7.3.1"); // serverAuth
  });

  it("is valid now", () => {
    const now = Date.now();
    for (const cert of [ca, server!, proxied!, wrong!]) {
      expect(Date.parse(cert.validFrom)).toBeLessThan(now);
      expect(Date.parse(cert.validTo)).toBeGreaterThan(now);
    }
  });

  it("has an impostor chain from a TLS-inspecting proxy, for the same names", () => {
    expect(proxyCa!.subject).toContain("CN=Corp TLS Inspection CA");
    expect(proxied!.issuer).toContain("CN=Corp TLS Inspection CA");
    expect(proxied!.verify(proxyCa!.publicKey)).toBe(true);
    expect(proxied!.verify(ca.publicKey)).toBe(false);
    expect(proxied!.checkHost(ENDPOINT)).toBeDefined();
  });

  it("has a trusted certificate for the wrong name", () => {
    expect(wrong!.verify(ca.publicKey)).toBe(true);
    expect(wrong!.subjectAltName).toBe("DNS:wrong.example.com");
    expect(wrong!.checkHost(ENDPOINT)).toBeUndefined();
  });

  it("makes them once per endpoint, under one CA per process", () => {
    expect(simulatorCerts(ENDPOINT, "us-east-1")).toBe(certs);
    const other = simulatorCerts(ENDPOINT.replace("us-east-1", "eu-west-1"), "eu-west-1");
    expect(other.caPem).toBe(certs.caPem);
    const leaf = chain(other.server.cert)[0]!;
    expect(leaf.checkHost("x.execute-api.eu-west-1.amazonaws.com")).toBeDefined();
    expect(leaf.checkHost("x.execute-api.us-east-1.amazonaws.com")).toBeUndefined();
  });
});
