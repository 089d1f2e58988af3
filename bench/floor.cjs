// The runbook's checks done by the smallest Node program that does them: one DNS query for A over
// UDP, one verified TLS connection per address, every stage on it in turn, Node's built-ins only
// and no flags. It trusts what diagnose trusts: Node's roots plus CA_FILE (DESIGN.md's caFile). What any Node program pays for this work on this node, a floor under
// `apigw-diag diagnose`; not a diagnostic (no AAAA, no findings, no report). CommonJS, since an
// ES module loads Node's ES module loader on top.
//   node bench/floor.cjs NAME DNS_HOST DNS_PORT PORT API_ID CA_FILE TIMEOUT_SECONDS STAGE...
// Prints "ok/total" as bench/runbook.sh does.
"use strict";
const dgram = require("node:dgram");
const fs = require("node:fs");
const tls = require("node:tls");

const [name, dnsHost, dnsPort, port, apiId, caFile, seconds, ...stages] = process.argv.slice(2);
const timeoutMs = Number(seconds) * 1000;

function addresses() {
  const labels = name
    .split(".")
    .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  // id 0x1234, recursion desired, one question: NAME A IN.
  const header = Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  const query = Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("DNS timeout"));
    }, timeoutMs);
    socket.on("message", (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(answers(msg, query.length));
    });
    socket.send(query, Number(dnsPort), dnsHost);
  });
}

/** The A records of a response whose question section ends at `offset`. */
function answers(msg, offset) {
  const found = [];
  for (let i = 0, count = msg.readUInt16BE(6); i < count; i++) {
    if ((msg[offset] & 0xc0) === 0xc0) offset += 2;
    else {
      while (msg[offset]) offset += msg[offset] + 1;
      offset++;
    }
    const type = msg.readUInt16BE(offset);
    const length = msg.readUInt16BE(offset + 8);
    offset += 10;
    if (type === 1 && length === 4)
      found.push(Array.from(msg.subarray(offset, offset + 4)).join("."));
    offset += length;
  }
  return found;
}

/** How many stages answer 200 on one connection to `address`. */
function stagesOk(address, secureContext) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: address,
      port: Number(port),
      servername: name,
      secureContext,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${address}: timeout`));
    }, timeoutMs);
    let pending = "";
    let next = 0;
    let ok = 0;
    const send = () =>
      socket.write(
        `GET /${stages[next]}/ HTTP/1.1\r\nHost: ${name}\r\nx-apigw-api-id: ${apiId}\r\n\r\n`,
      );
    socket.once("secureConnect", send);
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => {
      pending += chunk;
      const end = pending.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(pending.slice(0, end))?.[1] ?? 0);
      if (pending.length < end + 4 + length) return;
      if (pending.startsWith("HTTP/1.1 200 ")) ok++;
      pending = pending.slice(end + 4 + length);
      if (++next < stages.length) return send();
      clearTimeout(timer);
      socket.end();
      resolve(ok);
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

(async () => {
  // Node's roots plus the CA, the cheapest way Node has (src/config/prepare.ts does the same):
  // `ca: [...tls.rootCertificates, pem]` would parse the roots again.
  const context = tls.createSecureContext();
  context.context.addCACert(fs.readFileSync(caFile, "latin1"));
  const found = await addresses();
  const ok = await Promise.all(found.map((a) => stagesOk(a, context)));
  process.stdout.write(`${ok.reduce((a, b) => a + b, 0)}/${found.length * stages.length}\n`);
})().catch((err) => {
  process.stderr.write(`floor: ${err.message}\n`);
  process.exitCode = 1;
});
