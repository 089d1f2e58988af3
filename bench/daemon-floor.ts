// The floor under the daemon (bench/daemon-floor.cjs) measured as the daemon is: the same config,
// warm-up and window, CPU and RSS from /proc. Its counts are asked for with SIGUSR2; a run that
// was not 200 at every address and stage stops the measurement, so a broken floor gives no figure.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { measureWindow, type DaemonCpu, type DaemonWindow } from "./daemon-cpu.js";
import { DAEMON_FLOOR, measuredNode, owned } from "./lib.js";

/**
 * Runs the floor on `config` under exactly `w.nodeFlags` and `w.env` (no base flags): warm-up,
 * then the window. `checksPerTarget` (addresses x stages) is what every run must have seen 200.
 */
export async function daemonFloorCpu(
  config: string,
  checksPerTarget: number,
  w: DaemonWindow,
): Promise<DaemonCpu> {
  const child = owned(
    spawn(measuredNode(), [...w.nodeFlags, DAEMON_FLOOR, config], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...w.env },
    }),
  );
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code, signal) =>
      reject(new Error(`daemon floor exited ${code ?? signal}`)),
    ),
  );
  exited.catch(() => undefined); // read by the races below; its own end comes after them
  /** The floor's next line, checked: target runs so far, every one of them 4/4. */
  const runs = async (): Promise<number> => {
    const [line] = (await Promise.race([
      once(lines, "line", { signal: AbortSignal.timeout(15_000) }),
      exited,
    ])) as [string];
    const m = /^runs (\d+) failed (\d+) checks (\d+)$/.exec(line);
    if (!m) throw new Error(`daemon floor: unexpected line: ${line}`);
    const [n, failed, checks] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (failed > 0) throw new Error(`daemon floor: ${failed} of ${n} runs failed`);
    if (checks !== n * checksPerTarget)
      throw new Error(
        `daemon floor: ${checks} checks answered 200 in ${n} runs, not ${n} x ${checksPerTarget}`,
      );
    return n;
  };
  try {
    await runs(); // its first line: started, and listening for SIGUSR2
    const pid = child.pid as number;
    return await measureWindow(
      pid,
      () => {
        const next = runs();
        process.kill(pid, "SIGUSR2");
        return next;
      },
      w,
    );
  } finally {
    child.kill("SIGTERM");
  }
}
