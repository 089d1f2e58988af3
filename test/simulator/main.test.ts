import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import dgram from "node:dgram";
import { mkdtemp, mkdir, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import dnsPacket from "dns-packet";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSimulatorArgs } from "../../src/simulator/main.js";
import { UsageError } from "../../src/types.js";
import type { ReadyLine } from "../../src/simulator/main.js";
import { hasSecondLoopback } from "../helpers.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("parseSimulatorArgs", () => {
  it("reads every flag", () => {
    const opts = parseSimulatorArgs([
      ...["--endpoint", "vpce-1-a.execute-api.eu-west-1.vpce.amazonaws.com", "--api-id", "x1"],
      ...["--address", "127.0.0.5", "--address", "::1", "--https-port", "8443"],
      ...["--dns-host", "127.0.0.9", "--dns-port", "5353", "--stage", "prod=deny"],
      ...["--stage", "v2=ok", "--fault-dns", "truncate", "--fault", "127.0.0.5=tls-stall"],
      ...["--fault", "::1=refuse", "--allow-non-loopback"],
    ]);
    expect(opts).toEqual({
      endpoint: "vpce-1-a.execute-api.eu-west-1.vpce.amazonaws.com",
      apiId: "x1",
      addresses: ["127.0.0.5", "::1"],
      httpsPort: 8443,
      dnsHost: "127.0.0.9",
      dnsPort: 5353,
      stages: { prod: "deny", v2: "ok" },
      faults: { dns: "truncate", address: { "127.0.0.5": "tls-stall", "::1": "refuse" } },
      allowNonLoopback: true,
    });
  });

  it("leaves what is not given to the simulator's defaults", () => {
    expect(parseSimulatorArgs([])).toMatchObject({ allowNonLoopback: false, stages: undefined });
  });

  it("reads the flags of issue 23's faults", () => {
    const opts = parseSimulatorArgs([
      ...["--api", "m1s2d3r4c5=STRICT:421", "--strict-refusal", "421"],
      ...["--disable-execute-api-endpoint", "--tls-min-version", "TLSv1.3"],
      ...["--deny-all-domain", "denied.example.com", "--fault-dns", "zone-forward"],
    ]);
    expect(opts).toMatchObject({
      apis: [{ apiId: "m1s2d3r4c5", accessMode: "STRICT", strictRefusal: 421 }],
      strictRefusal: 421,
      defaultEndpointDisabled: true,
      tlsMinVersion: "TLSv1.3",
      domains: [{ name: "denied.example.com", associated: true, policy: "deny-all" }],
      faults: { dns: "zone-forward" },
    });
  });

  it.each([
    [["--strict-refusal", "404"]],
    [["--api", "x=STRICT:500"]],
    [["--tls-min-version", "TLSv1.1"]],
    [["--https-port", "70000"]],
    [["--dns-port", "x"]],
    [["--stage", "prod"]],
    [["--stage", "prod=sideways"]],
    [["--fault", "127.0.0.1=melt"]],
    [["--fault-dns", "slow"]],
    [["--bogus"]],
  ])("rejects %j as a usage error", (argv) => {
    expect(() => parseSimulatorArgs(argv)).toThrow(UsageError);
  });
});

/** Transpiles the simulator (and what it imports) to plain ESM in a temp dir next to node_modules. */
async function buildStandalone(): Promise<string> {
  const out = await mkdtemp(path.join(os.tmpdir(), "apigw-sim-main-"));
  await symlink(path.join(ROOT, "node_modules"), path.join(out, "node_modules"), "dir");
  await writeFile(path.join(out, "package.json"), '{"type":"module"}');
  const sources = (await readdir(path.join(ROOT, "src/simulator"))).map(
    (f) => `src/simulator/${f}`,
  );
  for (const file of [...sources, "src/types.ts"].filter((f) => f.endsWith(".ts"))) {
    const code = ts.transpileModule(await readFile(path.join(ROOT, file), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    await mkdir(path.join(out, path.dirname(file)), { recursive: true });
    await writeFile(path.join(out, file.replace(/\.ts$/, ".js")), code);
  }
  return out;
}

interface Run {
  child: ChildProcessWithoutNullStreams;
  exit: Promise<{ code: number | null; stderr: string }>;
}

function run(dir: string, argv: string[]): Run {
  const child = spawn(process.execPath, [path.join(dir, "src/simulator/main.js"), ...argv]);
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once("exit", (code) => resolve({ code, stderr })),
  );
  return { child, exit };
}

function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
    });
    child.once("exit", () => reject(new Error(`exited before ready: ${out}`)));
  });
}

type Ready = ReadyLine;

function getStage(ready: Ready, ca: string, stage: string): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      .get(
        {
          host: ready.addresses[0],
          port: ready.port,
          path: `/${stage}`,
          servername: ready.endpoint,
          ca,
          headers: { host: ready.endpoint, "x-apigw-api-id": ready.apiId },
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
      .on("error", reject);
  });
}

function resolveA(ready: Ready, name: string): Promise<string[]> {
  const socket = dgram.createSocket("udp4");
  const query = dnsPacket.encode({ type: "query", id: 1, questions: [{ type: "A", name }] });
  return new Promise<string[]>((resolve) => {
    socket.once("message", (reply) => {
      const answers = dnsPacket.decode(reply).answers ?? [];
      resolve(answers.map((a) => ("data" in a ? String(a.data) : "")));
    });
    socket.send(query, ready.dns.port, ready.dns.host);
  }).finally(() => socket.close());
}

describe("standalone simulator process", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await buildStandalone();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("prints one ready line, serves as configured, and exits 0 on SIGTERM", async () => {
    // An address other than the default's: 127.0.0.3, or ::1 where loopback holds 127.0.0.1 alone.
    const address = hasSecondLoopback ? "127.0.0.3" : "::1";
    const argv = ["--address", address, "--stage", "prod=deny", "--fault-dns", "public"];
    const { child, exit } = run(dir, argv);
    const ready = JSON.parse(await firstLine(child)) as Ready;
    expect(ready).toMatchObject({ ready: true, addresses: [address], apiId: "a1b2c3d4e5" });
    const ca = await readFile(ready.caFile, "utf8");
    expect(await getStage(ready, ca, "prod")).toBe(403);
    expect(await resolveA(ready, ready.endpoint)).toEqual(["52.94.133.131", "3.5.0.10"]);
    child.kill("SIGTERM");
    expect(await exit).toEqual({ code: 0, stderr: "" });
    await expect(readFile(ready.caFile)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("exits 0 on SIGINT too", async () => {
    const { child, exit } = run(dir, []);
    await firstLine(child);
    child.kill("SIGINT");
    expect((await exit).code).toBe(0);
  });

  it("exits 3 with one line on a bad flag or a non-loopback address", async () => {
    for (const argv of [
      ["--fault-dns", "slow"],
      ["--address", "10.1.2.3"],
    ]) {
      const { code, stderr } = await run(dir, argv).exit;
      expect(code).toBe(3);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(/^apigw-diag simulator: /);
    }
  });
});
