import net from "node:net";
import { bounded, elapsed, ended, now, type Connected, type ProbeContext } from "./context.js";

export interface TcpInput {
  address: string;
  port: number;
}

export interface TcpObservation {
  address: string;
  port: number;
  connected: boolean;
  timedOut: boolean;
  /** The run was cancelled before the connection was made or refused. */
  cancelled?: boolean;
  errno?: string;
  syscall?: string;
  localAddress?: string;
  connectMs: number;
}

/** The socket, when connected, is handed over beside the observation: the caller destroys it. */
export async function probeTcp(
  ctx: ProbeContext,
  input: TcpInput,
): Promise<Connected<TcpObservation, net.Socket>> {
  const started = now();
  const base = { address: input.address, port: input.port, cancelled: false };
  let socket: net.Socket | undefined;
  const observation = await bounded<TcpObservation>(
    ctx,
    (reason) => ({ ...base, connected: false, ...ended(reason), connectMs: elapsed(started) }),
    (settle) => {
      // An IP literal: net.connect does no name lookup, so only this address is contacted.
      socket = net.connect({ host: input.address, port: input.port, noDelay: true });
      socket.once("connect", () =>
        settle({
          ...base,
          connected: true,
          timedOut: false,
          localAddress: socket?.localAddress,
          connectMs: elapsed(started),
        }),
      );
      socket.on("error", (err: NodeJS.ErrnoException) =>
        settle({
          ...base,
          connected: false,
          timedOut: false,
          errno: err.code,
          syscall: err.syscall,
          connectMs: elapsed(started),
        }),
      );
      return () => {};
    },
  );
  if (!observation.connected) {
    socket?.destroy();
    return { observation };
  }
  return { observation, socket };
}
