import net from "node:net";
import { bounded, elapsed, type ProbeContext } from "./context.js";

export interface TcpInput {
  address: string;
  port: number;
}

export interface TcpObservation {
  address: string;
  port: number;
  connected: boolean;
  timedOut: boolean;
  errno?: string;
  syscall?: string;
  localAddress?: string;
  connectMs: number;
  /** Open socket when connected: the caller owns it and must destroy it. */
  socket?: net.Socket;
}

export async function probeTcp(ctx: ProbeContext, input: TcpInput): Promise<TcpObservation> {
  const started = performance.now();
  const base = { address: input.address, port: input.port };
  let socket: net.Socket | undefined;
  const result = await bounded<TcpObservation>(
    ctx,
    () => ({ ...base, connected: false, timedOut: true, connectMs: elapsed(started) }),
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
          socket,
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
  if (!result.connected) socket?.destroy();
  return result;
}
