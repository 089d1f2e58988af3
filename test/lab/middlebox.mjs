// A middlebox on the Direct Connect router: the router's iptables REDIRECT hands it the
// on-prem host's connections to the endpoint's port 443, and it answers them itself.
//
//   node middlebox.mjs --host 10.0.0.1 --port 8443 --mode intercept|deny --name N [--name N] --dir D
//
// intercept: a TLS-inspecting proxy whose own CA ("Lab Inspection CA") the host does not trust.
// deny:      a corporate proxy whose CA the host does trust, answering 403 with its own page and
//            none of API Gateway's headers.
// Writes its CA certificate to D/middlebox-ca.pem and prints one JSON line {"ready":true,...}.
import https from "node:https";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import forge from "node-forge";

const { values } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string", default: "8443" },
    mode: { type: "string", default: "intercept" },
    name: { type: "string", multiple: true, default: [] },
    dir: { type: "string" },
  },
});
if (!values.host || !values.dir || !["intercept", "deny"].includes(values.mode)) {
  process.stderr.write(
    "usage: middlebox.mjs --host IP --port N --mode intercept|deny --name N --dir D\n",
  );
  process.exit(3);
}

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKey: forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs8", format: "pem" })),
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" })),
  };
}

function certificate({ subject, issuer, keys, signer, extensions }) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `01${randomBytes(8).toString("hex")}`;
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 7 * 24 * 3600_000);
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  cert.setExtensions(extensions);
  cert.sign(signer, forge.md.sha256.create());
  return cert;
}

const caName = values.mode === "intercept" ? "Lab Inspection CA" : "Lab Corporate Proxy CA";
const caSubject = [
  { name: "commonName", value: caName },
  { name: "organizationName", value: "apigw-diag lab" },
];
const caKeys = keyPair();
const ca = certificate({
  subject: caSubject,
  issuer: caSubject,
  keys: caKeys,
  signer: caKeys.privateKey,
  extensions: [
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
  ],
});
const leafKeys = keyPair();
const leaf = certificate({
  subject: [{ name: "commonName", value: values.name[0] ?? "middlebox" }],
  issuer: caSubject,
  keys: leafKeys,
  signer: caKeys.privateKey,
  extensions: [
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: values.name.map((value) => ({ type: 2, value })) },
  ],
});

const caFile = path.join(values.dir, "middlebox-ca.pem");
writeFileSync(caFile, forge.pki.certificateToPem(ca));

const server = https.createServer(
  {
    key: forge.pki.privateKeyToPem(leafKeys.privateKey),
    cert: forge.pki.certificateToPem(leaf) + forge.pki.certificateToPem(ca),
  },
  (request, response) => {
    // Whatever was asked, the proxy's own refusal page: no x-amzn-* headers, HTML, not JSON.
    request.resume();
    response.writeHead(403, { "content-type": "text/html", server: "lab-proxy" });
    response.end("<html><body><h1>Access Denied</h1>Blocked by corporate policy.</body></html>\n");
  },
);
server.on("tlsClientError", () => {});
await new Promise((resolve, reject) =>
  server.once("error", reject).listen(Number(values.port), values.host, resolve),
);
process.stdout.write(
  `${JSON.stringify({ ready: true, mode: values.mode, host: values.host, port: Number(values.port), caFile, pid: process.pid })}\n`,
);

const stop = () => {
  server.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
