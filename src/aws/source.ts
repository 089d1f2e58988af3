// This host's source address toward each endpoint address, as DESIGN's path layer finds it: a
// connected UDP socket's local address, which the kernel picks by its routing table. No packet is
// sent. The path layer's own answer (addressInfo[].source) replaces this when it is there.
import dgram from "node:dgram";
import { isIP } from "node:net";

/** Undefined for an address the kernel has no route for (or that is not an IP literal). */
export async function sourceAddresses(
  addresses: string[],
  port: number,
): Promise<Map<string, string | undefined>> {
  const pairs = await Promise.all(
    addresses.map(async (a) => [a, await sourceAddress(a, port)] as const),
  );
  return new Map(pairs);
}

export function sourceAddress(address: string, port: number): Promise<string | undefined> {
  const family = isIP(address);
  if (family === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const socket = dgram.createSocket(family === 6 ? "udp6" : "udp4");
    const done = (source: string | undefined) => {
      socket.close();
      resolve(source);
    };
    socket.once("error", () => done(undefined));
    // An IP literal: no lookup, and connect() on UDP only asks the kernel for a route.
    socket.connect(port, address, () => {
      try {
        done(socket.address().address);
      } catch {
        done(undefined);
      }
    });
  });
}
