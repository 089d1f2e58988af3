// A throwaway PKI for the daemon's door: a CA, a server certificate for localhost and 127.0.0.1,
// a second CA for clients and a client certificate it signed, written as PEM files into a fresh
// directory. Keys from Node's crypto, certificates signed by node-forge.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import bcrypt from "bcryptjs";
import forge from "node-forge";

const DAY_MS = 86_400_000;

interface Pair {
  cert: forge.pki.Certificate;
  certPem: string;
  keyPem: string;
}

function keys(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  return { privatePem: privateKey, publicPem: publicKey };
}

function issue(commonName: string, extensions: object[], issuer?: Pair): Pair {
  const k = keys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(k.publicPem);
  cert.serialNumber = `01${randomBytes(8).toString("hex")}`;
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + DAY_MS);
  cert.setSubject([{ name: "commonName", value: commonName }]);
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : cert.subject.attributes);
  cert.setExtensions(extensions);
  const signer = issuer
    ? forge.pki.privateKeyFromPem(issuer.keyPem)
    : forge.pki.privateKeyFromPem(k.privatePem);
  cert.sign(signer, forge.md.sha256.create());
  return { cert, certPem: forge.pki.certificateToPem(cert), keyPem: k.privatePem };
}

const CA_EXTENSIONS = [
  { name: "basicConstraints", cA: true, critical: true },
  { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
];

export interface DoorPki {
  dir: string;
  caPem: string;
  server: { certPem: string; keyPem: string };
  clientCaPem: string;
  client: { certPem: string; keyPem: string };
  /** Writes `name` in the directory; returns its path. */
  write(name: string, text: string): string;
  remove(): void;
}

let cached: Omit<DoorPki, "dir" | "write" | "remove"> | undefined;

/** A fresh directory with ca.crt, server.crt, server.key, client-ca.crt, client.crt, client.key. */
export function doorPki(): DoorPki {
  cached ??= (() => {
    const ca = issue("apigw-diag test CA", CA_EXTENSIONS);
    const server = issue(
      "localhost",
      [
        { name: "basicConstraints", cA: false },
        { name: "extKeyUsage", serverAuth: true },
        {
          name: "subjectAltName",
          altNames: [
            { type: 2, value: "localhost" },
            { type: 7, ip: "127.0.0.1" },
          ],
        },
      ],
      ca,
    );
    const clientCa = issue("apigw-diag test client CA", CA_EXTENSIONS);
    const client = issue(
      "prometheus",
      [
        { name: "basicConstraints", cA: false },
        { name: "extKeyUsage", clientAuth: true },
        { name: "subjectAltName", altNames: [{ type: 2, value: "prometheus.monitoring.svc" }] },
      ],
      clientCa,
    );
    return {
      caPem: ca.certPem,
      server: { certPem: server.certPem, keyPem: server.keyPem },
      clientCaPem: clientCa.certPem,
      client: { certPem: client.certPem, keyPem: client.keyPem },
    };
  })();
  const dir = mkdtempSync(path.join(tmpdir(), "agd-door-"));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  write("ca.crt", cached.caPem);
  write("server.crt", cached.server.certPem);
  write("server.key", cached.server.keyPem);
  write("client-ca.crt", cached.clientCaPem);
  write("client.crt", cached.client.certPem);
  write("client.key", cached.client.keyPem);
  return { ...cached, dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A bcrypt hash as htpasswd and Go write it ($2y$): the same algorithm as bcryptjs's $2b$. Cost 10,
 * as exporter-toolkit's docs show.
 */
export function htpasswdHash(password: string): string {
  return bcrypt.hashSync(password, 10).replace(/^\$2b\$/, "$2y$");
}
