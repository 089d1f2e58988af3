// The lab's Route 53 Resolver inbound endpoint: answers A/AAAA queries from a zone file that it
// re-reads on every query, so a scenario changes what DNS says by rewriting one file, the way a
// record change in a private hosted zone would. UDP and TCP on the same address and port.
//
//   node resolver.mjs --host 10.20.0.2 --port 53 --zone zone.json
//
// zone.json: { "<name>": { "A": ["10.20.1.10"], "AAAA": [] } | { "rcode": "NXDOMAIN" } }
// Names not in the zone get NXDOMAIN. Prints one JSON line {"ready":true,...} when listening.
import { Buffer } from "node:buffer";
import dgram from "node:dgram";
import net from "node:net";
import { readFileSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";
import dnsPacket from "dns-packet";

const { values } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string", default: "53" },
    zone: { type: "string" },
  },
});
if (!values.host || !values.zone) {
  process.stderr.write("usage: resolver.mjs --host IP --port N --zone FILE\n");
  process.exit(3);
}
const port = Number(values.port);

function readZone() {
  const zone = JSON.parse(readFileSync(values.zone, "utf8"));
  return new Map(
    Object.entries(zone).map(([name, rr]) => [name.toLowerCase().replace(/\.$/, ""), rr]),
  );
}

// dns-packet encodes the rcode only as the low four bits of `flags`.
const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
const withRcode = (reply, rcode) => ({ ...reply, flags: reply.flags | RCODES[rcode] });

function answer(query) {
  const question = query.questions?.[0];
  const reply = {
    type: "response",
    id: query.id,
    flags:
      dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: query.questions,
    answers: [],
  };
  if (!question) return withRcode(reply, "FORMERR");
  const record = readZone().get(question.name.toLowerCase().replace(/\.$/, ""));
  if (!record) return withRcode(reply, "NXDOMAIN");
  if (record.rcode) return withRcode(reply, record.rcode);
  const data =
    question.type === "A" || question.type === "AAAA" ? (record[question.type] ?? []) : [];
  reply.answers = data.map((address) => ({
    type: question.type,
    class: "IN",
    name: question.name,
    ttl: 60,
    data: address,
  }));
  return withRcode(reply, "NOERROR");
}

function respond(buffer) {
  try {
    return dnsPacket.encode(answer(dnsPacket.decode(buffer)));
  } catch (error) {
    process.stderr.write(`resolver: ${error.message}\n`);
    return undefined;
  }
}

const udp = dgram.createSocket("udp4");
udp.on("message", (message, peer) => {
  const reply = respond(message);
  if (reply) udp.send(reply, peer.port, peer.address);
});

const tcp = net.createServer((socket) => {
  let pending = Buffer.alloc(0);
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const length = pending.readUInt16BE(0);
      const reply = respond(pending.subarray(2, 2 + length));
      pending = pending.subarray(2 + length);
      if (!reply) continue;
      const framed = Buffer.alloc(2 + reply.length);
      framed.writeUInt16BE(reply.length, 0);
      reply.copy(framed, 2);
      socket.write(framed);
    }
  });
});

await Promise.all([
  new Promise((resolve, reject) => udp.once("error", reject).bind(port, values.host, resolve)),
  new Promise((resolve, reject) => tcp.once("error", reject).listen(port, values.host, resolve)),
]);
process.stdout.write(
  `${JSON.stringify({ ready: true, host: values.host, port, pid: process.pid })}\n`,
);

const stop = () => {
  udp.close();
  tcp.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
