// Throwaway certificates for the simulator: a CA standing in for Amazon's, the endpoint's
// server certificate, and two impostors (a TLS-inspecting proxy's, and one for the wrong name).
// Node makes the keys (fast, native); node-forge builds and signs the certificates, which Node's
// crypto cannot do. Everything is made on first use and cached for the process: RSA key
// generation is the slow part, and importing this module must cost nothing.

import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

const KEY_BITS = 2048; // OpenSSL's default security level rejects smaller RSA keys
const DAY_MS = 24 * 60 * 60 * 1000;

interface KeyPair {
  privatePem: string;
  publicPem: string;
}

interface Issued {
  certPem: string;
  keyPem: string;
}

/** What the HTTPS server presents: `cert` is the chain it sends, leaf first. */
export interface ServerIdentity {
  cert: string;
  key: string;
}

export interface SimulatorCerts {
  caPem: string;
  /** Signed by `caPem`; covers the endpoint and the API's names. */
  server: ServerIdentity;
  /** Same names, signed by "Corp TLS Inspection CA", which the client does not trust. */
  untrusted: ServerIdentity;
  /** Signed by `caPem`, but for wrong.example.com only. */
  wrongName: ServerIdentity;
  /** Signed by `caPem` for the custom domain names, when there are any. */
  domain?: ServerIdentity;
}

const keys = new Map<string, KeyPair>();
const certsByEndpoint = new Map<string, SimulatorCerts>();

function keyPair(role: string): KeyPair {
  let pair = keys.get(role);
  if (!pair) {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", {
      modulusLength: KEY_BITS,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
    });
    pair = { privatePem: privateKey, publicPem: publicKey };
    keys.set(role, pair);
  }
  return pair;
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // a positive integer, as RFC 5280 requires
  return bytes.toString("hex");
}

function newCertificate(publicPem: string, commonName: string, org: string, days: number) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = serialNumber();
  // Back-dated a little so a client whose clock runs slightly behind still accepts it.
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + days * DAY_MS);
  cert.setSubject([
    { name: "commonName", value: commonName },
    { name: "organizationName", value: org },
  ]);
  return cert;
}

function sign(cert: forge.pki.Certificate, issuerKey: KeyPair): string {
  cert.sign(forge.pki.privateKeyFromPem(issuerKey.privatePem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

interface Authority {
  key: KeyPair;
  cert: forge.pki.Certificate;
  pem: string;
}

function makeAuthority(role: string, commonName: string): Authority {
  const key = keyPair(role);
  const cert = newCertificate(key.publicPem, commonName, "apigw-diag simulator", 365);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  return { key, cert, pem: sign(cert, key) };
}

function issueLeaf(
  ca: Authority,
  role: string,
  names: string[],
  validity?: { from: Date; to: Date },
): Issued {
  const key = keyPair(role);
  const [first = "localhost"] = names;
  const cert = newCertificate(key.publicPem, first, "apigw-diag simulator", 90);
  if (validity) {
    cert.validity.notBefore = validity.from;
    cert.validity.notAfter = validity.to;
  }
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: names.map((value) => ({ type: 2, value })) },
    { name: "subjectKeyIdentifier" },
    {
      name: "authorityKeyIdentifier",
      keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes(),
    },
  ]);
  return { certPem: sign(cert, ca.key), keyPem: key.privatePem };
}

/** The names the real certificate of an execute-api interface endpoint covers. */
export function endpointNames(endpoint: string, region: string): string[] {
  return [
    endpoint,
    `*.execute-api.${region}.vpce.amazonaws.com`,
    `*.execute-api.${region}.amazonaws.com`,
  ];
}

let authorities: { real: Authority; corp: Authority } | undefined;

function getAuthorities(): { real: Authority; corp: Authority } {
  authorities ??= {
    real: makeAuthority("ca", "apigw-diag Simulator Root CA"),
    corp: makeAuthority("corp-ca", "Corp TLS Inspection CA"),
  };
  return authorities;
}

/** The simulator's certificates for one endpoint name; cached, so calling again is free. */
export function simulatorCerts(
  endpoint: string,
  region: string,
  domains: string[] = [],
): SimulatorCerts {
  const cacheKey = `${endpoint.toLowerCase()} ${region} ${domains.join(",").toLowerCase()}`;
  const cached = certsByEndpoint.get(cacheKey);
  if (cached) return cached;
  const { real, corp } = getAuthorities();
  const names = endpointNames(endpoint.toLowerCase(), region);
  const server = issueLeaf(real, "leaf", names);
  const untrusted = issueLeaf(corp, "corp-leaf", names);
  // Reuses the server's key: only the names differ, and keygen is what costs.
  const wrongName = issueLeaf(real, "leaf", ["wrong.example.com"]);
  const certs: SimulatorCerts = {
    caPem: real.pem,
    server: { cert: server.certPem, key: server.keyPem },
    // A proxy sends its own CA along: the client then sees a self-signed root it does not trust.
    untrusted: { cert: untrusted.certPem + corp.pem, key: untrusted.keyPem },
    wrongName: { cert: wrongName.certPem, key: wrongName.keyPem },
  };
  if (domains.length > 0) {
    const domain = issueLeaf(
      real,
      "leaf",
      domains.map((d) => d.toLowerCase()),
    );
    certs.domain = { cert: domain.certPem, key: domain.keyPem };
  }
  certsByEndpoint.set(cacheKey, certs);
  return certs;
}

/**
 * A leaf for `names`, signed by the simulator's CA (`caPem` of any `simulatorCerts`), valid only
 * from `from` to `to`: a certificate this host's clock finds expired or not yet valid.
 */
export function datedLeaf(names: string[], from: Date, to: Date): ServerIdentity {
  const issued = issueLeaf(getAuthorities().real, "leaf", names, { from, to });
  return { cert: issued.certPem, key: issued.keyPem };
}
