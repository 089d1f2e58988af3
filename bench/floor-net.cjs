// The network work the two floors share (bench/floor.cjs under diagnose, bench/daemon-floor.cjs
// under the daemon): DNS over UDP by hand, Node's roots plus a CA, and one verified TLS connection
// that asks every stage in turn. Node's built-ins only, CommonJS, as the floors themselves.
"use strict";
const dgram = require("node:dgram");
const fs = require("node:fs");
const tls = require("node:tls");

let queryId = 0;

/** NAME as a DNS question's labels, the root label included. */
function question(name) {
  const labels = name
    .split(".")
    .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([...labels, Buffer.from([0])]);
}

/**
 * The addresses of `name` (a question()) for each of `types` (1 A, 28 AAAA), every query sent at
 * once on one socket to host:port, recursion desired; rejects after `timeoutMs`.
 */
function lookup({ host, port, name, types, timeoutMs }) {
  const ids = types.map(() => (queryId = (queryId + 1) & 0xffff));
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
    const found = [];
    let waiting = ids.length;
    let settled = false;
    const settle = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(found);
    };
    const timer = setTimeout(() => settle(new Error("DNS timeout")), timeoutMs);
    socket.on("message", (msg) => {
      const i = msg.length >= 12 ? ids.indexOf(msg.readUInt16BE(0)) : -1;
      if (i < 0) return;
      ids[i] = -1;
      found.push(...answers(msg, 12 + name.length + 4));
      if (--waiting === 0) settle();
    });
    socket.on("error", settle);
    types.forEach((type, i) => socket.send(query(ids[i], name, type), port, host));
  });
}

function query(id, name, type) {
  const header = Buffer.from([id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, name, Buffer.from([0, type, 0, 1])]);
}

/** The A and AAAA records of a response whose question section ends at `offset`. */
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
    const data = msg.subarray(offset, offset + length);
    if (type === 1 && length === 4) found.push(Array.from(data).join("."));
    if (type === 28 && length === 16)
      found.push(
        Array.from({ length: 8 }, (_, g) => data.readUInt16BE(2 * g).toString(16)).join(":"),
      );
    offset += length;
  }
  return found;
}

/**
 * Node's roots plus the CA in `caFile`, the cheapest way Node has (src/config/prepare.ts does the
 * same): `ca: [...tls.rootCertificates, pem]` would parse the roots again.
 */
function trustWith(caFile) {
  const context = tls.createSecureContext();
  context.context.addCACert(fs.readFileSync(caFile, "latin1"));
  return context;
}

/**
 * How many of `requests` answer 200, sent in turn on one verified TLS connection to host:port;
 * rejects on an error, an early close, or after `timeoutMs`.
 */
function stagesOk({ host, port, servername, secureContext, requests, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername, secureContext });
    let pending = "";
    let next = 0;
    let ok = 0;
    let settled = false;
    const settle = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        socket.end();
        resolve(ok);
      }
    };
    const timer = setTimeout(() => settle(new Error(`${host}: timeout`)), timeoutMs);
    const send = () => socket.write(requests[next]);
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
      if (++next < requests.length) send();
      else settle();
    });
    socket.on("error", settle);
    socket.on("close", () => settle(new Error(`${host}: closed`)));
  });
}

/** `GET /<stage>/` for each stage, with the API id header. */
const stageRequests = (name, apiId, stages) =>
  stages.map((s) => `GET /${s}/ HTTP/1.1\r\nHost: ${name}\r\nx-apigw-api-id: ${apiId}\r\n\r\n`);

module.exports = { lookup, question, stageRequests, stagesOk, trustWith };
