// Asks one resolver for one record type, the way dig would, with dns-packet on real sockets:
// UDP first (one retransmission), TCP when the answer is truncated or UDP stays silent.
import { randomInt } from "node:crypto";
import dgram from "node:dgram";
import net from "node:net";
import dnsPacket, { type Answer, type DecodedPacket } from "dns-packet";
import ipaddr from "ipaddr.js";
import { bounded, elapsed, now, type ProbeContext } from "./context.js";

export type RecordType = "A" | "AAAA";

export interface DnsInput {
  name: string;
  type: RecordType;
  resolver: { host: string; port: number };
  /** CNAMEs followed inside one answer, at most. */
  maxCnames: number;
  /** Addresses kept from one answer, at most: a hostile resolver cannot make us dial thousands. */
  maxAddresses?: number;
}

export interface DnsObservation {
  resolver: string;
  name: string;
  type: RecordType;
  transport?: "udp" | "tcp";
  /** TC bit seen over UDP (then TCP was asked). */
  truncated: boolean;
  rcode?: string;
  addresses: string[];
  /** Addresses beyond `maxAddresses` in the answer, dropped. */
  addressesOmitted?: number;
  cnames: string[];
  /** Answers that do not belong to the name asked (ignored). */
  foreignAnswers: number;
  /** Why no usable reply: no reply at all, or only replies that could not be trusted. */
  error?: "timeout" | "malformed" | "mismatch" | "network" | "cancelled";
  errorDetail?: string;
  durationMs: number;
}

interface Outcome {
  packet?: DecodedPacket;
  transport?: "udp" | "tcp";
  truncated: boolean;
  error?: DnsObservation["error"];
  errorDetail?: string;
}

export async function probeDns(ctx: ProbeContext, input: DnsInput): Promise<DnsObservation> {
  const started = now();
  const id = randomInt(0, 65_536);
  const query = dnsPacket.encode({
    type: "query",
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: input.type, name: input.name, class: "IN" }],
  });
  const outcome = await exchange(ctx, input, id, query);
  return summarizeOutcome(input, outcome, elapsed(started));
}

function exchange(ctx: ProbeContext, input: DnsInput, id: number, query: Buffer): Promise<Outcome> {
  let lastBad: Outcome | undefined;
  let tcpProgress: string | undefined;
  return bounded<Outcome>(
    ctx,
    (reason) =>
      // Cancelled: whatever came so far is not this resolver's answer, nor did it time out.
      reason === "cancelled"
        ? { truncated: false, error: "cancelled", errorDetail: "the run was cancelled" }
        : (lastBad ?? {
            truncated: false,
            error: "timeout",
            errorDetail: tcpProgress
              ? `no complete answer over UDP or TCP (${tcpProgress})`
              : "no answer over UDP or TCP",
          }),
    (settle) => {
      const check = (buf: Buffer, transport: "udp" | "tcp"): Outcome =>
        validateReply(buf, transport, id, input);
      let tcpStarted = false;
      let truncated = false;
      let tcpSocket: net.Socket | undefined;
      const startTcp = () => {
        if (tcpStarted) return;
        tcpStarted = true;
        tcpSocket = queryTcp(input, query, {
          // The one reply over TCP is final, good or bad: nobody off-path can slip one in.
          reply: (buf) => settle({ ...check(buf, "tcp"), truncated }),
          failed: (error, errorDetail) => {
            const o: Outcome = { transport: "tcp", truncated, error, errorDetail };
            // A reply cut short is final; a refused connection still leaves UDP a chance.
            if (error === "malformed") settle(o);
            else lastBad ??= o;
          },
          progress: (detail) => (tcpProgress = detail),
        });
      };
      const udp = dgram.createSocket(net.isIPv6(input.resolver.host) ? "udp6" : "udp4");
      udp.on("error", (err: NodeJS.ErrnoException) => {
        lastBad ??= { truncated, error: "network", errorDetail: `udp: ${err.code ?? err.message}` };
        startTcp();
      });
      const resolverAddress = canonical(input.resolver.host);
      udp.on("message", (buf, rinfo) => {
        // Only the resolver we asked may answer, from its address and port: a datagram from any
        // other host (a forged answer racing the real one) is noise, not an answer.
        if (rinfo.port !== input.resolver.port || canonical(rinfo.address) !== resolverAddress)
          return;
        const o = check(buf, "udp");
        if (o.error) {
          lastBad = { ...o, truncated };
          return;
        }
        if (o.packet?.flag_tc) {
          truncated = true;
          startTcp();
          return;
        }
        settle(o);
      });
      const send = () => udp.send(query, input.resolver.port, input.resolver.host, () => {});
      send();
      // Retransmit once (UDP loses packets), then also try TCP for the rest of the budget.
      const retry = setTimeout(send, ctx.timeoutMs / 4);
      const tcpFallback = setTimeout(startTcp, ctx.timeoutMs / 2);
      return () => {
        clearTimeout(retry);
        clearTimeout(tcpFallback);
        udp.close();
        tcpSocket?.destroy();
      };
    },
  );
}

/** One spelling per address: `::ffff:10.0.0.2` is 10.0.0.2, `::0:1` is `::1`; a zone is dropped. */
function canonical(address: string): string {
  const bare = address.split("%")[0] ?? address;
  try {
    return ipaddr.process(bare).toNormalizedString();
  } catch {
    return bare;
  }
}

interface TcpEvents {
  reply: (buf: Buffer) => void;
  failed: (error: "network" | "malformed", detail: string) => void;
  progress: (detail: string) => void;
}

function queryTcp(input: DnsInput, query: Buffer, on: TcpEvents): net.Socket {
  const socket = net.connect({ host: input.resolver.host, port: input.resolver.port });
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(query.length);
  socket.once("connect", () => socket.write(Buffer.concat([prefix, query])));
  let pending = Buffer.alloc(0);
  let replied = false;
  socket.on("data", (chunk: Buffer) => {
    if (replied) return;
    pending = Buffer.concat([pending, chunk]);
    if (pending.length < 2) return;
    const len = pending.readUInt16BE(0);
    if (pending.length < 2 + len) {
      on.progress(`tcp: ${pending.length - 2} of ${len} bytes`);
      return;
    }
    // One reply (at most 65535 bytes) is all we read: a peer that sends more is cut off.
    replied = true;
    socket.destroy();
    on.reply(pending.subarray(2, 2 + len));
  });
  socket.on("end", () => {
    if (replied) return;
    if (pending.length === 0) on.failed("network", "tcp: closed without a reply");
    else on.failed("malformed", `tcp: closed after ${pending.length} bytes of an incomplete reply`);
  });
  socket.on("error", (err: NodeJS.ErrnoException) =>
    on.failed("network", `tcp: ${err.code ?? err.message}`),
  );
  return socket;
}

export interface ReplyExpectation {
  /** The query's id. */
  id: number;
  name: string;
  type: RecordType;
}

/** Decodes one reply and checks it answers our query; never throws, whatever the bytes. */
export function validateReply(
  buf: Buffer,
  transport: "udp" | "tcp",
  id: number,
  input: Pick<DnsInput, "name" | "type">,
): Outcome {
  const bad = (error: "malformed" | "mismatch", errorDetail: string): Outcome => ({
    transport,
    truncated: false,
    error,
    errorDetail,
  });
  const overcounted = impossibleCounts(buf);
  if (overcounted) return bad("malformed", overcounted);
  let packet: DecodedPacket;
  try {
    packet = dnsPacket.decode(buf);
  } catch (err) {
    return bad("malformed", `undecodable reply: ${err instanceof Error ? err.message : "?"}`);
  }
  // dns-packet reads record data past the end of a short buffer without complaint.
  if (dnsPacket.decode.bytes > buf.length)
    return bad(
      "malformed",
      `reply cut short: ${buf.length} bytes, its records need ${dnsPacket.decode.bytes}`,
    );
  if (packet.id !== id) return bad("mismatch", `reply id ${packet.id}, asked ${id}`);
  if (packet.type !== "response") return bad("malformed", "reply is not a response");
  const q = packet.questions?.[0];
  const sameQuestion =
    q && q.name.toLowerCase() === input.name.toLowerCase() && q.type === input.type;
  if (!sameQuestion) {
    // The name is the peer's bytes: quoted, so it cannot break a line or a terminal.
    return bad(
      "mismatch",
      `reply is for ${q ? `${JSON.stringify(q.name)} ${q.type}` : "no question"}`,
    );
  }
  return { packet, transport, truncated: false };
}

/**
 * Header counts that the message cannot hold (a question takes 5 bytes at least, a record 11).
 * Checked before decoding: dns-packet allocates arrays of the announced sizes up front, which
 * made a 300-byte reply of noise cost milliseconds and megabytes.
 */
function impossibleCounts(buf: Buffer): string | undefined {
  if (buf.length < 12) return undefined; // the decoder says why
  const questions = buf.readUInt16BE(4);
  const records = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  if (12 + questions * 5 + records * 11 <= buf.length) return undefined;
  return `header announces ${questions} question(s) and ${records} record(s), more than ${buf.length} bytes can hold`;
}

/**
 * The pure half of the probe: what one reply's bytes say about the query, as the observation
 * the probe would return. Exported so the decoding path can be tested (and fuzzed) on its own.
 */
export function observeReply(
  buf: Buffer,
  transport: "udp" | "tcp",
  expect: ReplyExpectation & Pick<DnsInput, "resolver" | "maxCnames" | "maxAddresses">,
): DnsObservation {
  const input: DnsInput = { ...expect };
  return summarizeOutcome(input, validateReply(buf, transport, expect.id, input), 0);
}

function summarizeOutcome(input: DnsInput, o: Outcome, durationMs: number): DnsObservation {
  const base = {
    resolver: `${input.resolver.host}:${input.resolver.port}`,
    name: input.name,
    type: input.type,
    transport: o.transport,
    truncated: o.truncated,
    durationMs,
  };
  if (!o.packet)
    return {
      ...base,
      addresses: [],
      cnames: [],
      foreignAnswers: 0,
      error: o.error,
      errorDetail: o.errorDetail,
    };
  const rcode = (o.packet as DecodedPacket & { rcode?: string }).rcode ?? "NOERROR";
  const chain = followChain(input, o.packet.answers ?? []);
  const max = input.maxAddresses ?? Infinity;
  const observation: DnsObservation = {
    ...base,
    rcode,
    addresses: chain.addresses.slice(0, max),
    cnames: chain.cnames,
    foreignAnswers: chain.foreign,
  };
  if (chain.addresses.length > max) observation.addressesOmitted = chain.addresses.length - max;
  // An answer with records but none usable for the name asked is a broken reply, not NODATA.
  if (rcode === "NOERROR" && chain.addresses.length === 0) {
    if (chain.problem)
      Object.assign(observation, { error: "malformed", errorDetail: chain.problem });
    else if (chain.foreign > 0)
      Object.assign(observation, {
        error: "mismatch",
        errorDetail: `${chain.foreign} answer(s) for other names, none for the name asked`,
      });
  }
  return observation;
}

interface Chain {
  addresses: string[];
  cnames: string[];
  foreign: number;
  /** A CNAME loop, or a chain longer than the bound. */
  problem?: string;
}

/** Addresses of the name asked, through at most `maxCnames` CNAMEs; other records are counted, not used. */
function followChain(input: DnsInput, answers: Answer[]): Chain {
  const owners = new Set([input.name.toLowerCase()]);
  const cnames: string[] = [];
  let current = input.name.toLowerCase();
  let problem: string | undefined;
  const cnameOf = (owner: string): string | undefined => {
    const next = answers.find((a) => a.type === "CNAME" && a.name.toLowerCase() === owner);
    const target = next && "data" in next ? next.data : undefined;
    return typeof target === "string" ? target.toLowerCase() : undefined;
  };
  for (let hop = 0; ; hop++) {
    const target = cnameOf(current);
    if (target === undefined) break;
    if (owners.has(target)) {
      problem = `CNAME loop back to ${JSON.stringify(target)}`;
      break;
    }
    if (hop >= input.maxCnames) {
      problem = `CNAME chain longer than ${input.maxCnames}`;
      break;
    }
    current = target;
    owners.add(current);
    cnames.push(current);
  }
  const addresses: string[] = [];
  let foreign = 0;
  for (const a of answers) {
    const mine = owners.has(a.name.toLowerCase());
    const data = "data" in a ? a.data : undefined;
    if (mine && a.type === input.type && typeof data === "string" && net.isIP(data))
      addresses.push(data);
    else if (!mine) foreign++;
  }
  return { addresses: [...new Set(addresses)], cnames, foreign, problem };
}
