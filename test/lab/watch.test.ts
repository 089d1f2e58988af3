// Issue 27 in namespaces: `demo`, and the unit tests that start the simulator, where loopback
// holds 127.0.0.1 alone (as on macOS), and
// `diagnose --watch --until healthy` on the on-prem host while a real fault is cleared.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADDR,
  API_ID,
  ENDPOINT,
  Lab,
  REPO_ROOT,
  STAGES,
  checkSupport,
  startEndpoint,
  startResolver,
  stopProcess,
  type Started,
} from "./lab.js";

const support = checkSupport();
const CLI = path.join(REPO_ROOT, "dist", "cli.js");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI inside `ns`; `onLine` sees each stdout line as it comes. */
function cliIn(ns: string, args: string[], onLine: (line: string) => void = () => {}) {
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, CLI, ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    const before = stdout.split("\n").length - 1;
    stdout += chunk.toString();
    for (const line of stdout.split("\n").slice(before, -1)) onLine(line);
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const done = new Promise<Run>((resolve) =>
    child.on("close", (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done };
}

const ip = (...args: string[]) => {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
};

describe.skipIf(!support.ok)("macOS-like loopback: 127.0.0.1/32 alone", () => {
  const ns = `agd-${process.pid}-lo`;
  beforeAll(() => {
    spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    ip("netns", "add", ns);
    ip("-n", ns, "link", "set", "lo", "up");
    ip("-n", ns, "addr", "del", "127.0.0.1/8", "dev", "lo");
    ip("-n", ns, "addr", "add", "127.0.0.1/32", "dev", "lo");
  });
  afterAll(() => {
    spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  });
  const sysctlLoV6 = (disabled: boolean) =>
    spawnSync("ip", [
      ...["netns", "exec", ns, "sysctl", "-qw"],
      `net.ipv6.conf.lo.disable_ipv6=${disabled ? 1 : 0}`,
    ]);

  it("runs demo with ::1 as the second Availability Zone", async () => {
    const { code, stdout, stderr } = await cliIn(ns, ["demo", "--format", "json"]).done;
    expect(code, stderr).toBe(0);
    expect(stderr).not.toContain("internal error");
    const report = JSON.parse(stdout) as {
      verdict: string;
      targets: { addresses: string[]; findings: { code: string; address?: string }[] }[];
    };
    const [t] = report.targets;
    expect(t?.addresses).toEqual(["127.0.0.1", "::1"]);
    expect(report.verdict).toBe("degraded");
    for (const address of ["127.0.0.1", "::1"])
      expect(t?.findings.filter((f) => f.address === address).map((f) => f.code)).toEqual([
        "PATH_OK",
        "TCP_OK",
        "TLS_OK",
        "HTTP_OK",
        "HTTP_FORBIDDEN",
      ]);
  });

  it.each(["strict", "dualstack", "domain-unassociated", "domain-elsewhere"])(
    "runs demo --scenario %s",
    async (scenario) => {
      const { code, stdout, stderr } = await cliIn(ns, [
        ...["demo", "--scenario", scenario, "--format", "json"],
      ]).done;
      expect(code, stderr).toBe(0);
      expect((JSON.parse(stdout) as { verdict: string }).verdict).not.toBe("healthy");
    },
  );

  it("runs demo on one address where loopback has no ::1 either", async () => {
    sysctlLoV6(true);
    try {
      const { code, stdout, stderr } = await cliIn(ns, ["demo", "--format", "json"]).done;
      expect(code, stderr).toBe(0);
      const report = JSON.parse(stdout) as { targets: { addresses: string[] }[] };
      expect(report.targets[0]?.addresses).toEqual(["127.0.0.1"]);
    } finally {
      sysctlLoV6(false);
    }
  });

  it("passes the simulator's unit tests there, skipping only what needs a second IPv4 address", async () => {
    // A representative set: in-process diagnoses, the CLI, the daemon and /probe, the simulator.
    const files = [
      "test/diagnose/run.test.ts",
      "test/diagnose/cancel.test.ts",
      "test/diagnose/access-modes.test.ts",
      "test/daemon/probe.test.ts",
      "test/daemon/connections.test.ts",
      "test/cli.test.ts",
      "test/simulator/simulator.test.ts",
    ];
    const dir = mkdtempSync(path.join(os.tmpdir(), "agd-lab-unit-"));
    try {
      const out = path.join(dir, "unit.json");
      const vitest = path.join(REPO_ROOT, "node_modules", "vitest", "vitest.mjs");
      const r = spawnSync(
        "ip",
        [
          ...["netns", "exec", ns, process.execPath, vitest, "run", ...files],
          ...["--reporter=json", `--outputFile=${out}`],
        ],
        // Not CI's: the nested run must not write the unit suite's report.
        { cwd: REPO_ROOT, encoding: "utf8", timeout: 150_000, env: { ...process.env, CI: "" } },
      );
      const result = JSON.parse(readFileSync(out, "utf8")) as {
        numFailedTests: number;
        numPassedTests: number;
        numPendingTests: number;
        testResults: { assertionResults: { title: string; status: string }[] }[];
      };
      const skipped = result.testResults
        .flatMap((f) => f.assertionResults)
        .filter((t) => t.status === "skipped" || t.status === "pending")
        .map((t) => t.title);
      console.log(
        `lab: macOS-like loopback: ${result.numPassedTests} passed, ${skipped.length} skipped`,
      );
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(result.numFailedTests).toBe(0);
      expect(result.numPassedTests).toBeGreaterThan(80);
      // What may skip there: the CLI's interruption (the CLI does not try ::1 without IPv6
      // connectivity) and the connection guard's clients from 127.0.0.2 to 127.0.0.6.
      expect(skipped.sort()).toEqual(
        [
          "evicts a connection in the middle of an answer last",
          "prints what finished, one stderr line and exits 3 on SIGINT",
          "prints what finished, one stderr line and exits 3 on SIGTERM",
          "takes every newcomer: its address gives up its oldest idle connection",
          "when full, takes from the address holding the most, not from the others",
        ].sort(),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it("says in one line, exit 3, why the simulator cannot listen on an address it was given", async () => {
    // The standalone simulator, told to use 127.0.0.2, which this loopback does not hold.
    const main = path.join(REPO_ROOT, "dist", "simulator", "main.js");
    const r = spawnSync(
      "ip",
      ["netns", "exec", ns, process.execPath, main, "--address", "127.0.0.2"],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot listen on 127\.0\.0\.2(:\d+)? \(EADDRNOTAVAIL\)/);
  });
});

describe.skipIf(!support.ok)("diagnose --watch --until healthy on the lab", () => {
  const lab = new Lab();
  let resolver: Started | undefined;
  let endpoint: Started | undefined;
  let caFile = "";
  const downOnExit = (): void => lab.down();

  beforeAll(async () => {
    process.once("exit", downOnExit);
    lab.up();
    resolver = await startResolver(lab);
    endpoint = await startEndpoint(lab);
    caFile = String(endpoint.ready.caFile);
  }, 120_000);

  afterAll(async () => {
    for (const started of [endpoint, resolver]) if (started) await stopProcess(started.child);
    lab.down();
    process.removeListener("exit", downOnExit);
  });

  it("exits 0 within two intervals of a dropped SYN being cleared, having said FIXED", async () => {
    const intervalMs = 3000;
    lab.fault("sg-drop-all");
    let clearedAt: number | undefined;
    let firstLine = "";
    const run = cliIn(
      lab.ns("onprem"),
      [
        ...["diagnose", "--endpoint", ENDPOINT, "--api-id", API_ID],
        ...STAGES.flatMap((s) => ["--stage", s]),
        ...["--ca-file", caFile, "--timeout", "1s", "--format", "json"],
        ...["--watch", `${intervalMs / 1000}s`, "--until", "healthy"],
      ],
      (line) => {
        if (clearedAt !== undefined) return;
        firstLine = line;
        // Cleared right after a failing run: the next run is at most one interval away.
        lab.reset();
        clearedAt = Date.now();
      },
    );
    const { code, stdout, stderr } = await run.done;
    const tookMs = Date.now() - (clearedAt ?? 0);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    const first = JSON.parse(firstLine) as {
      verdict: string;
      targets: { primaryCause: { code: string } }[];
    };
    expect(first.verdict).toBe("failing");
    expect(first.targets[0]?.primaryCause.code).toBe("TCP_TIMEOUT");
    const last = JSON.parse(stdout.trimEnd().split("\n").at(-1) ?? "{}") as {
      verdict: string;
      targets: { addresses: string[] }[];
      watch: { fixed: { was: string; cause: string }[] };
    };
    expect(last.verdict).toBe("healthy");
    expect(last.targets[0]?.addresses.sort()).toEqual([ADDR.endpointA, ADDR.endpointB]);
    expect(last.watch.fixed).toEqual([
      expect.objectContaining({ target: "cli", was: "failing", cause: "TCP_TIMEOUT" }),
    ]);
    // The bound is the behaviour: two intervals.
    expect(tookMs).toBeLessThan(2 * intervalMs);
    console.log(`lab: watch: exit ${code} ${tookMs} ms after the fault was cleared`);
  });
});
