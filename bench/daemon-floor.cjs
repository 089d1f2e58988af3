// The daemon's network work done by the smallest Node program that does it, a floor under
// `apigw-diag daemon` as bench/floor.cjs is one under diagnose: what any Node program pays in CPU
// and memory for this work on this node. Every target again `daemon.interval` after its last run
// started (the config's jitter taken as 0), `daemon.maxConcurrentTargets` at a time; a run is one
// DNS query for A and one for AAAA over UDP to the first resolver, then per address one verified
// TLS connection (Node's roots plus caFile) with `GET /<stage>/` for every stage on it, closed.
// Each DNS exchange and each connection is bounded by the config's timeout. A run is failed
// unless every stage at every address (one at least) answered 200. Not a daemon: no metrics,
// no reports, no logs, no reload. CommonJS and Node's built-ins only, as bench/floor.cjs.
//   node bench/daemon-floor.cjs CONFIG_JSON      (the file bench/cpu.ts's configFor() writes)
// Runs until SIGTERM. Writes "runs N failed F checks C" (runs ended, of them failed, 200s seen)
// once started and again at each SIGUSR2: asked for, so no timer, socket or stream is kept for it.
"use strict";
const dgram = require("node:dgram");
const fs = require("node:fs");
const tls = require("node:tls");

const config = JSON.parse(fs.readFileSync(process.argv[2], "latin1"));
const timeoutMs = ms(config.timeout);
const intervalMs = ms(config.daemon.interval);
const [dnsHost, dnsPort] = hostPort(config.resolvers[0]);
const dnsFamily = dnsHost.includes(":") ? "udp6" : "udp4";
// Node's roots plus the CA, the cheapest way Node has (src/config/prepare.ts does the same).
const secureContext = tls.createSecureContext();
secureContext.context.addCACert(fs.readFileSync(config.caFile, "latin1"));
const targets = config.targets.map((t) => ({
  endpoint: t.endpoint,
  question: Buffer.concat([
    ...t.endpoint.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]),
  requests: t.stages.map(
    (s) => `GET /${s}/ HTTP/1.1\r\nHost: ${t.endpoint}\r\nx-apigw-api-id: ${t.apiId}\r\n\r\n`,
  ),
}));

let runs = 0;
let failed = 0;
let checks = 0;
let queryId = 0;

/** "5s", "200ms", "1m": the config's durations. */
function ms(duration) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2]];
}

/** "host:port" or "[v6]:port". */
function hostPort(s) {
  const i = s.lastIndexOf(":");
  return [s.slice(0, i).replace(/^\[(.*)\]$/, "$1"), Number(s.slice(i + 1))];
}

/** A query for `type` (1 A, 28 AAAA), recursion desired. */
function query(id, question, type) {
  const header = Buffer.from([id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, question, Buffer.from([0, type, 0, 1])]);
}

/** The A and AAAA addresses of `target`, both asked at once on one socket. */
function addresses(target) {
  const ids = [1, 28].map(() => (queryId = (queryId + 1) & 0xffff));
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(dnsFamily);
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
      found.push(...answers(msg, 12 + target.question.length + 4));
      if (--waiting === 0) settle();
    });
    socket.on("error", settle);
    socket.send(query(ids[0], target.question, 1), dnsPort, dnsHost);
    socket.send(query(ids[1], target.question, 28), dnsPort, dnsHost);
  });
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

/** How many stages answer 200 on one connection to `address`. */
function stagesOk(target, address) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: address,
      port: config.port,
      servername: target.endpoint,
      secureContext,
    });
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
    const timer = setTimeout(() => settle(new Error(`${address}: timeout`)), timeoutMs);
    const send = () => socket.write(target.requests[next]);
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
      if (++next < target.requests.length) send();
      else settle();
    });
    socket.on("error", settle);
    socket.on("close", () => settle(new Error(`${address}: closed`)));
  });
}

/** One run of `target`: true when every stage at every address answered 200. */
async function run(target) {
  const found = await addresses(target);
  const ok = (await Promise.all(found.map((a) => stagesOk(target, a)))).reduce((a, b) => a + b, 0);
  checks += ok;
  return found.length > 0 && ok === found.length * target.requests.length;
}

// The daemon's scheduler without its bookkeeping: a target is due again an interval after its run
// started, and waits in a queue while maxConcurrentTargets runs are in flight.
const queue = [];
let running = 0;

function due(target) {
  queue.push(target);
  pump();
}

function pump() {
  while (running < config.daemon.maxConcurrentTargets && queue.length) start(queue.shift());
}

function start(target) {
  running++;
  const started = Date.now();
  const ended = (ok) => {
    runs++;
    if (!ok) failed++;
    running--;
    setTimeout(() => due(target), Math.max(0, started + intervalMs - Date.now()));
    pump();
  };
  run(target).then(ended, () => ended(false));
}

const report = () => fs.writeSync(1, `runs ${runs} failed ${failed} checks ${checks}\n`);
process.on("SIGUSR2", report);
report();
// First runs spread over the interval, as the daemon spreads them (over 5 s at most).
const spread = Math.min(intervalMs, 5_000) / targets.length;
targets.forEach((t, i) => setTimeout(() => due(t), i * spread));
