// Asks one resolver for one record type, the way dig would, with dns-packet on real sockets:
// UDP first (one retransmission), TCP when the answer is truncated or UDP stays silent.
import { randomInt } from "node:crypto";
import dgram from "node:dgram";
import net from "node:net";
import dnsPacket, { type Answer, type DecodedPacket } from "dns-packet";
import { bounded, elapsed, type ProbeContext } from "./context.js";

export type RecordType = "A" | "AAAA";

export interface DnsInput {
  name: string;
  type: RecordType;
  resolver: { host: string; port: number };
  /** CNAMEs followed inside one answer, at most. */
  maxCnames: number;
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
  cnames: string[];
  /** Answers that do not belong to the name asked (ignored). */
  foreignAnswers: number;
  /** Why no usable reply: no reply at all, or only replies that could not be trusted. */
  error?: "timeout" | "malformed" | "mismatch" | "network";
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
  const started = performance.now();
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
  return bounded<Outcome>(
    ctx,
    () =>
      lastBad ?? { truncated: false, error: "timeout", errorDetail: "no answer over UDP or TCP" },
    (settle) => {
      const check = (buf: Buffer, transport: "udp" | "tcp"): Outcome =>
        validate(buf, transport, id, input);
      let tcpStarted = false;
      let truncated = false;
      let tcpSocket: net.Socket | undefined;
      const startTcp = () => {
        if (tcpStarted) return;
        tcpStarted = true;
        tcpSocket = queryTcp(
          input,
          query,
          (buf) => {
            const o = check(buf, "tcp");
            if (o.error) lastBad = { ...o, truncated };
            else settle({ ...o, truncated });
          },
          (err) => {
            if (!lastBad) lastBad = { truncated, error: "network", errorDetail: `tcp: ${err}` };
          },
        );
      };
      const udp = dgram.createSocket(net.isIPv6(input.resolver.host) ? "udp6" : "udp4");
      udp.on("error", (err: NodeJS.ErrnoException) => {
        lastBad ??= { truncated, error: "network", errorDetail: `udp: ${err.code ?? err.message}` };
        startTcp();
      });
      udp.on("message", (buf, rinfo) => {
        // Only the resolver we asked may answer; anything else is noise, not an answer.
        if (rinfo.port !== input.resolver.port) return;
        const o = check(buf, "udp");
        if (o.error) {
          lastBad = o;
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

function queryTcp(
  input: DnsInput,
  query: Buffer,
  onReply: (buf: Buffer) => void,
  onError: (err: string) => void,
): net.Socket {
  const socket = net.connect({ host: input.resolver.host, port: input.resolver.port });
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(query.length);
  socket.once("connect", () => socket.write(Buffer.concat([prefix, query])));
  let pending = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    // One reply of at most 65535 bytes is all we read; a peer that sends more is cut off.
    while (pending.length >= 2) {
      const len = pending.readUInt16BE(0);
      if (pending.length < 2 + len) return;
      onReply(pending.subarray(2, 2 + len));
      pending = pending.subarray(2 + len);
    }
  });
  socket.on("error", (err: NodeJS.ErrnoException) => onError(err.code ?? err.message));
  return socket;
}

function validate(buf: Buffer, transport: "udp" | "tcp", id: number, input: DnsInput): Outcome {
  let packet: DecodedPacket;
  try {
    packet = dnsPacket.decode(buf);
  } catch (err) {
    return {
      transport,
      truncated: false,
      error: "malformed",
      errorDetail: `undecodable reply: ${(err as Error).message}`,
    };
  }
  if (packet.id !== id)
    return {
      transport,
      truncated: false,
      error: "mismatch",
      errorDetail: `reply id ${packet.id}, asked ${id}`,
    };
  if (packet.type !== "response")
    return {
      transport,
      truncated: false,
      error: "malformed",
      errorDetail: "reply is not a response",
    };
  const q = packet.questions?.[0];
  const sameQuestion =
    q && q.name.toLowerCase() === input.name.toLowerCase() && q.type === input.type;
  if (!sameQuestion) {
    return {
      transport,
      truncated: false,
      error: "mismatch",
      errorDetail: `reply is for ${q ? `${q.name} ${q.type}` : "no question"}`,
    };
  }
  return { packet, transport, truncated: false };
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
  const { addresses, cnames, foreign } = followChain(input, o.packet.answers ?? []);
  return {
    ...base,
    rcode: (o.packet as DecodedPacket & { rcode?: string }).rcode ?? "NOERROR",
    addresses,
    cnames,
    foreignAnswers: foreign,
  };
}

/** Addresses of the name asked, through at most `maxCnames` CNAMEs; other records are counted, not used. */
function followChain(
  input: DnsInput,
  answers: Answer[],
): { addresses: string[]; cnames: string[]; foreign: number } {
  const owners = new Set([input.name.toLowerCase()]);
  const cnames: string[] = [];
  let current = input.name.toLowerCase();
  for (let hop = 0; hop < input.maxCnames; hop++) {
    const next = answers.find((a) => a.type === "CNAME" && a.name.toLowerCase() === current);
    const target = next && "data" in next ? next.data : undefined;
    if (typeof target !== "string") break;
    current = target.toLowerCase();
    if (owners.has(current)) break; // a loop
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
  return { addresses: [...new Set(addresses)], cnames, foreign };
}
