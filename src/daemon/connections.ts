// Who may hold the daemon's connections. A fixed cap that refuses newcomers (Node's
// server.maxConnections) lets 64 idle sockets lock every scrape and health check out for as long
// as they are held. Here a newcomer is always taken: when its address (an IPv6 /64 counts as one)
// holds its share, that address's least recently useful connection makes room; when the daemon
// holds its total, the address holding the most gives one up. A connection in the middle of an
// answer is chosen last. Memory stays bounded by the total, and an address can only crowd itself.
import type net from "node:net";
import ipaddr from "ipaddr.js";

export interface ConnectionLimits {
  /** Connections one address (or IPv6 /64) may hold. */
  perAddress: number;
  /** Connections the daemon holds at once. */
  total: number;
}

interface Conn {
  group: Set<Conn>;
  groupKey: string;
  /** What is destroyed to evict it: the TLS socket once there is one, the TCP socket before. */
  socket: net.Socket;
  /** Requests being answered on it. */
  active: number;
  gone: boolean;
}

export class ConnectionGuard {
  /** Per address, least recently useful first: a request answered moves its connection last. */
  private readonly groups = new Map<string, Set<Conn>>();
  private readonly bySocket = new WeakMap<net.Socket, Conn>();
  private readonly byPeer = new Map<string, Conn>();
  private count = 0;
  evicted = 0;

  constructor(private readonly limits: ConnectionLimits) {}

  get size(): number {
    return this.count;
  }

  /** Every accepted TCP socket, before anything is read from it. */
  admit(socket: net.Socket): void {
    const address = socket.remoteAddress;
    if (!address) {
      socket.destroy();
      return;
    }
    const groupKey = groupOf(address);
    const own = this.groups.get(groupKey);
    if (own && own.size >= this.limits.perAddress) this.evictFrom(own);
    else if (this.count >= this.limits.total) this.evictFrom(this.largest());
    // An eviction may have emptied (and dropped) this address's set.
    let group = this.groups.get(groupKey);
    if (!group) {
      group = new Set();
      this.groups.set(groupKey, group);
    }
    const conn: Conn = { group, groupKey, socket, active: 0, gone: false };
    group.add(conn);
    this.count++;
    this.bySocket.set(socket, conn);
    const peer = peerOf(socket);
    this.byPeer.set(peer, conn);
    socket.once("close", () => {
      this.forget(conn);
      if (this.byPeer.get(peer) === conn) this.byPeer.delete(peer);
    });
  }

  /** The TLS socket over a TCP socket admitted before (found by its peer address and port). */
  attach(tlsSocket: net.Socket): void {
    const conn = this.byPeer.get(peerOf(tlsSocket));
    if (!conn) return;
    conn.socket = tlsSocket;
    this.bySocket.set(tlsSocket, conn);
  }

  /** A request is being answered on `socket` (a request's `req.socket`). */
  started(socket: net.Socket): void {
    const conn = this.bySocket.get(socket);
    if (conn) conn.active++;
  }

  /** Its answer is over: the connection has been useful, it goes last in line. */
  finished(socket: net.Socket): void {
    const conn = this.bySocket.get(socket);
    if (!conn || conn.gone) return;
    conn.active = Math.max(0, conn.active - 1);
    conn.group.delete(conn);
    conn.group.add(conn);
  }

  private evictFrom(group: Set<Conn> | undefined): void {
    if (!group) return;
    let victim: Conn | undefined;
    for (const conn of group) {
      victim ??= conn;
      if (conn.active === 0) {
        victim = conn;
        break;
      }
    }
    if (!victim) return;
    this.forget(victim);
    this.evicted++;
    victim.socket.destroy();
  }

  private largest(): Set<Conn> | undefined {
    let largest: Set<Conn> | undefined;
    for (const group of this.groups.values())
      if (!largest || group.size > largest.size) largest = group;
    return largest;
  }

  private forget(conn: Conn): void {
    if (conn.gone) return;
    conn.gone = true;
    conn.group.delete(conn);
    this.count--;
    if (conn.group.size === 0 && this.groups.get(conn.groupKey) === conn.group)
      this.groups.delete(conn.groupKey);
  }
}

/** An IPv4 address, or the /64 of an IPv6 one (a host usually holds a whole /64). */
export function groupOf(address: string): string {
  try {
    const parsed = ipaddr.process(address);
    if (parsed.kind() === "ipv4") return parsed.toString();
    return `${(parsed as ipaddr.IPv6).parts
      .slice(0, 4)
      .map((p) => p.toString(16))
      .join(":")}::/64`;
  } catch {
    return address;
  }
}

function peerOf(socket: net.Socket): string {
  return `${socket.remoteAddress ?? ""}|${socket.remotePort ?? ""}`;
}
