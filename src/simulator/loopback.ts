// Which loopback addresses the simulator's two "Availability Zones" take. Linux's loopback holds
// all of 127.0.0.0/8; macOS's holds 127.0.0.1 alone (and ::1), so there the second AZ is ::1;
// where neither can be bound, one AZ is simulated rather than none.
import net from "node:net";
import { UsageError } from "../types.js";

export type CanBind = (address: string) => Promise<boolean>;

/** Whether a TCP listener can be opened on `address` (a free port): asked, never assumed. */
export const canBind: CanBind = (address) =>
  new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ host: address, port: 0, exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });

/** The first address, then the first second one this host's loopback can hold. */
export async function loopbackAddresses(bindable: CanBind = canBind): Promise<string[]> {
  for (const second of ["127.0.0.2", "::1"])
    if (await bindable(second)) return ["127.0.0.1", second];
  return ["127.0.0.1"];
}

/**
 * An address this host's loopback does not hold, as one line a user can act on (a UsageError:
 * exit 3, no stack); anything else unchanged (a port taken is the OS's own one line, cli-run.ts).
 */
export function explainListenError(error: unknown): unknown {
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (!(error instanceof Error) || e.syscall !== "listen" || e.code !== "EADDRNOTAVAIL")
    return error;
  const where = e.address ? ` on ${e.address}${e.port ? `:${e.port}` : ""}` : "";
  return new UsageError(
    `the simulator cannot listen${where} (${e.code}): this host's loopback does not hold that ` +
      "address (macOS holds 127.0.0.1 and ::1 only)",
    { cause: error },
  );
}
