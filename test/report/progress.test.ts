// The progress line: on a terminal's stderr only. Under a pseudo-terminal (`script`) the built
// CLI shows what it waits for and erases it before the report; in a pipe there is nothing of it.
import { execFile } from "node:child_process";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { describeWait, progressLine, type TerminalStream } from "../../src/report/progress.js";
import { cli, cliEnv, diagnoseFlags } from "../run-cli.js";

let sim: Simulator;
beforeAll(async () => {
  // 127.0.0.1 takes the ClientHello and never answers: the run waits for the 2 s TLS timeout.
  sim = await startSimulator({
    addresses: ["127.0.0.1"],
    stages: { prod: "ok" },
    faults: { address: { "127.0.0.1": "tls-stall" } },
  });
});
afterAll(() => sim.close());

const ESC = "\x1b";
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The built CLI under a pseudo-terminal: what the terminal received, stdout and stderr alike. */
function underPty(args: string[]): Promise<{ code: number; screen: string }> {
  const command = [process.execPath, "dist/cli.js", ...args].map(quote).join(" ");
  return new Promise((resolve) => {
    execFile(
      "script",
      ["-qefc", command, "/dev/null"],
      { env: cliEnv({ APIGW_DIAG_COMPARE_OS: "false", SHELL: "/bin/sh" }), timeout: 20_000 },
      (err, stdout) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, screen: stdout });
      },
    );
  });
}

describe("the progress line", () => {
  const args = () => [
    ...diagnoseFlags(sim),
    "--timeout",
    "2s",
    "--format",
    "json",
    "--log-level",
    "fatal",
  ];

  it("shows what is pending on a terminal, against its timeout, and erases it before the report", async () => {
    const { code, screen } = await underPty(args());
    expect(code, screen).toBe(2);
    expect(screen).toMatch(/waiting: tls 127\.0\.0\.1 [\d.]+ s of 2 s/);
    // Erased: after the last progress line, the cursor goes to column 1 and the row is cleared
    // before the report's first character.
    const last = screen.lastIndexOf("waiting:");
    const report = screen.indexOf("{", last);
    expect(screen.slice(last, report)).toMatch(new RegExp(`${ESC}\\[1G${ESC}\\[2K$`));
    expect(screen.slice(report)).toContain('"code": "TLS_TIMEOUT"');
  });

  it("is nowhere in a pipe", async () => {
    const { code, stdout, stderr } = await cli(args());
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toMatchObject({ verdict: "failing" });
    expect(stderr).toBe("");
    expect(stdout).not.toContain(ESC);
  });

  it("is not made for a stream that is not a terminal", () => {
    expect(progressLine(new PassThrough() as TerminalStream)).toBeUndefined();
  });

  it("fits one row of the terminal, and is erased once nothing is pending", async () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 24 });
    let screen = "";
    stream.on("data", (d: Buffer) => (screen += d.toString()));
    const progress = progressLine(stream, { delayMs: 10, everyMs: 5 });
    let end = () => {};
    progress?.onPending(
      { layer: "tcp", address: "10.20.2.10", timeoutMs: 5000 },
      new Promise<void>((resolve) => (end = resolve)),
    );
    while (!screen.includes("waiting")) await new Promise((r) => setTimeout(r, 5));
    end();
    await new Promise((r) => setTimeout(r, 20));
    // 22 characters and an ellipsis: a row of 24 columns never wraps.
    expect(screen).toContain(`${ESC}[1Gwaiting: tcp 10.20.2.1…${ESC}[0K`);
    expect(screen.endsWith(`${ESC}[1G${ESC}[2K`)).toBe(true);
    const length = screen.length;
    await new Promise((r) => setTimeout(r, 20));
    expect(screen).toHaveLength(length); // nothing more once erased
  });

  it("names the oldest wait and how many others there are", () => {
    expect(describeWait({ layer: "tcp", address: "10.20.2.10", timeoutMs: 5000 }, 2100, 0)).toBe(
      "waiting: tcp 10.20.2.10 2.1 s of 5 s",
    );
    expect(
      describeWait({ layer: "http", address: "10.20.2.10", stage: "prod", timeoutMs: 500 }, 450, 3),
    ).toBe("waiting: http 10.20.2.10 prod 0.5 s of 0.5 s (+3 more)");
    expect(describeWait({ layer: "dns", resolver: "10.0.0.2:53", timeoutMs: 5000 }, 1000, 0)).toBe(
      "waiting: dns 10.0.0.2:53 1 s of 5 s",
    );
  });
});
