// Helpers for the network lab suite: the topology script, processes inside namespaces, and
// running the built CLI on the on-prem host. Everything here talks only to addresses inside the
// lab's own namespaces.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const LAB_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(LAB_DIR, "..", "..");
const NETLAB = path.join(LAB_DIR, "netlab.sh");

/** The address plan of netlab.sh, for assertions. */
export const ADDR = {
  onprem: "10.0.0.10",
  router: "10.0.0.1",
  resolver: "10.20.0.2",
  endpointA: "10.20.1.10",
  endpointB: "10.20.2.10",
  stale: "10.20.3.50",
  publicA: "198.51.100.10",
  publicB: "203.0.113.10",
  // A dualstack endpoint's IPv6 ENIs: global unicast (documentation prefix), inside the lab only.
  endpointA6: "2001:db8:20:1::10",
  endpointB6: "2001:db8:20:2::10",
} as const;

export const ENDPOINT = "vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com";
export const API_ID = "a1b2c3d4e5";
export const STAGES = ["prod", "v2"] as const;
export const MIDDLEBOX_PORT = 8443;
/** A second API behind the same endpoint, in STRICT endpoint access mode. */
export const STRICT_API_ID = "s1t2r3i4c5";
export const STRICT_API_HOST = `${STRICT_API_ID}.execute-api.us-east-1.amazonaws.com`;
/** Private custom domain names: with an association, without one, and one aliased elsewhere. */
export const DOMAIN = "ledger.intra.example.com";
export const ORPHAN_DOMAIN = "orphan.intra.example.com";
export const MOVED_DOMAIN = "moved.intra.example.com";

type ZoneRecord = { A?: string[]; AAAA?: string[] } | { rcode: string };

export type Fault =
  | "sg-drop-all"
  | "sg-drop-one"
  | "reject-rst"
  | "no-route"
  | "router-unreachable"
  | "small-hop"
  | "pmtu-blackhole"
  | "resolver-down"
  | "dns-public"
  | "hosts-override"
  | "intercept"
  | "sg-drop-v6"
  | "pmtu-blackhole-v6"
  | "onprem-no-ipv6";

export interface Support {
  ok: boolean;
  reason: string;
}

function commandExists(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

/** Whether this machine can build the lab: root, iproute2, iptables, and namespaces that work. */
export function checkSupport(): Support {
  if (process.platform !== "linux") return { ok: false, reason: "network namespaces need Linux" };
  if (process.getuid?.() !== 0) return { ok: false, reason: "the lab must run as root" };
  for (const tool of ["ip", "iptables", "ip6tables", "bash"]) {
    if (!commandExists(tool)) return { ok: false, reason: `missing ${tool} (run .ci/lab.sh)` };
  }
  const probe = `agd-${process.pid}-probe`;
  const created = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8" });
  spawnSync("ip", ["netns", "del", probe], { stdio: "ignore" });
  if (created.status !== 0) {
    return { ok: false, reason: `cannot create a network namespace: ${created.stderr.trim()}` };
  }
  if (!existsSync(path.join(REPO_ROOT, "dist", "cli.js"))) {
    return { ok: false, reason: "dist/cli.js is missing: run npm run build" };
  }
  return { ok: true, reason: "" };
}

export interface Started {
  child: ChildProcess;
  pid: number;
  ready: Record<string, unknown>;
}

/**
 * Starts `node script args` inside a namespace and waits for its `{"ready":true}` line (or the
 * first JSON line `isReady` accepts: the daemon logs `{"event":"listening",...}`).
 */
export function startInNamespace(
  ns: string,
  script: string,
  args: string[],
  timeoutMs = 30_000,
  isReady: (line: Record<string, unknown>) => boolean = (line) => line.ready === true,
): Promise<Started> {
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, script, ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      if (child.pid !== undefined) stopProcess(child).catch(() => undefined);
      reject(new Error(`${path.basename(script)} in ${ns}: ${why}\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", (code) => fail(`exited with ${code} before it was ready`));
    let up = false;
    child.stdout?.on("data", (chunk: Buffer) => {
      // Drained on after the ready line (a full pipe would block the process) but parsed no
      // more: for a process that keeps logging (the daemon), a later chunk must not count as
      // ready again and remove the exit listeners set since (stopProcess's among them).
      if (up) return;
      stdout += chunk.toString();
      for (const line of stdout.split("\n").slice(0, -1)) {
        try {
          const ready = JSON.parse(line) as Record<string, unknown>;
          if (isReady(ready) && child.pid !== undefined) {
            up = true;
            clearTimeout(timer);
            child.removeAllListeners("exit");
            resolve({ child, pid: child.pid, ready });
            return;
          }
        } catch {
          // not the ready line
        }
      }
    });
  });
}

/** Ends one process we started, by its pid: TERM, then KILL if it lingers. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(child.pid, "SIGTERM");
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
  }, 3000);
  await exited;
  clearTimeout(timer);
}

export interface LabFinding {
  layer: string;
  code: string;
  status: string;
  address?: string;
  stage?: string;
  message?: string;
  evidence?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface LabReport {
  verdict: string;
  exitCode: number;
  interrupted: boolean;
  durationMs: number;
  targets: {
    verdict: string;
    primaryCause?: unknown;
    findings: LabFinding[];
    skipped?: { address?: string; layers: string[]; reason: string }[];
    comparisons?: { address: string; stage: string; mode: string; status?: number }[];
    comparisonRequests?: number;
    addresses?: string[];
    unfinished: { layer: string; address?: string; stage?: string }[];
  }[];
}

export interface Diagnosis {
  report: LabReport;
  exitCode: number | null;
  wallMs: number;
  /** From the end of the report on stdout to the process's exit. */
  exitAfterReportMs: number;
  /** From the interrupting signal (when one was sent) to the process's exit. */
  exitAfterSignalMs?: number;
  stderr: string;
  findings: LabFinding[];
}

/** The lab's Route 53 Resolver inbound endpoint: resolver.mjs on the VPC's resolver address. */
export function startResolver(lab: Lab): Promise<Started> {
  return startInNamespace(lab.ns("vpc"), path.join(LAB_DIR, "resolver.mjs"), [
    "--host",
    ADDR.resolver,
    "--port",
    "53",
    "--zone",
    lab.zoneFile,
  ]);
}

/**
 * The simulated endpoint on the VPC's two IPv4 ENI addresses, every stage deployed; `extra` adds
 * simulator flags (IPv6 addresses, APIs, domains). Its own DNS stays on the VPC's loopback:
 * resolver.mjs is the lab's resolver.
 */
export function startEndpoint(lab: Lab, extra: string[] = []): Promise<Started> {
  return startInNamespace(lab.ns("vpc"), path.join(REPO_ROOT, "dist", "simulator", "main.js"), [
    "--endpoint",
    ENDPOINT,
    "--api-id",
    API_ID,
    "--address",
    ADDR.endpointA,
    "--address",
    ADDR.endpointB,
    ...extra,
    "--https-port",
    "443",
    "--dns-host",
    "127.0.0.1",
    "--dns-port",
    "5353",
    ...STAGES.flatMap((stage) => ["--stage", `${stage}=ok`]),
    "--allow-non-loopback",
  ]);
}

/** The lab: its namespaces, its temporary directory and the scenario knobs. */
export class Lab {
  readonly prefix = `agd-${process.pid}`;
  // Made in up(), not here: a skipped suite still constructs its Lab.
  private tempDir: string | undefined;

  get dir(): string {
    if (!this.tempDir) throw new Error("the lab is not up");
    return this.tempDir;
  }

  get zoneFile(): string {
    return path.join(this.dir, "zone.json");
  }

  ns(role: "onprem" | "dx" | "vpc"): string {
    return `${this.prefix}-${role}`;
  }

  private netlab(args: string[], env: Record<string, string> = {}): string {
    return execFileSync("bash", [NETLAB, ...args], {
      encoding: "utf8",
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  up(): void {
    this.tempDir = mkdtempSync(path.join(tmpdir(), "agd-lab-"));
    this.netlab(["sweep"]);
    this.netlab(["up", this.prefix]);
    this.zone([ADDR.endpointA, ADDR.endpointB]);
  }

  down(): void {
    this.netlab(["down", this.prefix]);
    if (this.tempDir) rmSync(this.tempDir, { recursive: true, force: true });
    this.tempDir = undefined;
  }

  fault(name: Fault): void {
    this.netlab(["fault", this.prefix, name], {
      LAB_ENDPOINT: ENDPOINT,
      LAB_MIDDLEBOX_PORT: String(MIDDLEBOX_PORT),
    });
  }

  reset(): void {
    this.netlab(["reset", this.prefix]);
    this.zone([ADDR.endpointA, ADDR.endpointB]);
  }

  /** Packets the on-prem host tried to send toward the public answers. */
  publicPackets(): number {
    return Number(this.netlab(["counter", this.prefix, "public"]).trim());
  }

  /** IPv6 SYNs the VPC's ip6tables dropped (the sg-drop-v6 fault). */
  v6Dropped(): number {
    return Number(this.netlab(["counter", this.prefix, "v6-drop"]).trim());
  }

  /** ICMP fragmentation-needed messages the router wanted to send and dropped. */
  fragNeededDropped(): number {
    return Number(this.netlab(["counter", this.prefix, "frag-needed"]).trim());
  }

  /**
   * Bytes the on-prem host reads during a TLS handshake with one endpoint address: the server's
   * flight must not fit one 1500-byte packet, or a path-MTU black hole could not stall it.
   */
  handshakeBytes(address: string, caFile: string): number {
    const script = `
      const net = require("node:net"), tls = require("node:tls"), fs = require("node:fs");
      const raw = net.connect({ host: ${JSON.stringify(address)}, port: 443 });
      const t = tls.connect({ socket: raw, servername: ${JSON.stringify(ENDPOINT)}, ca: fs.readFileSync(${JSON.stringify(caFile)}) });
      t.on("secureConnect", () => { process.stdout.write(String(raw.bytesRead)); t.destroy(); });
      t.on("error", (e) => { console.error(e.message); process.exit(1); });
      setTimeout(() => process.exit(2), 5000).unref();`;
    return Number(
      execFileSync("ip", ["netns", "exec", this.ns("onprem"), process.execPath, "-e", script], {
        encoding: "utf8",
      }),
    );
  }

  /**
   * What the resolver answers for the endpoint name: IPv4 addresses, A and AAAA, or an rcode.
   * The other names (the STRICT API's private DNS name, the custom domains) are always there.
   */
  zone(answer: string[] | ZoneRecord): void {
    const record = Array.isArray(answer) ? { A: answer, AAAA: [] } : answer;
    const endpoint = { A: [ADDR.endpointA, ADDR.endpointB] };
    writeFileSync(
      this.zoneFile,
      JSON.stringify({
        [ENDPOINT]: record,
        [STRICT_API_HOST]: endpoint,
        [DOMAIN]: endpoint,
        [ORPHAN_DOMAIN]: endpoint,
        // The private hosted zone's alias points at another endpoint's ENI.
        [MOVED_DOMAIN]: { A: [ADDR.stale] },
      }),
    );
  }

  /** Runs the built CLI's `diagnose` on the on-prem host, as a person on call would. */
  diagnose(options: {
    caFile: string;
    timeout: string;
    extra?: string[];
    /** Replaces --endpoint, --api-id and --stage (a custom domain, another API). */
    target?: string[];
    /** Sends this signal to the CLI after `afterMs`, as a person pressing Ctrl-C would. */
    interrupt?: { signal: NodeJS.Signals; afterMs: number };
  }): Promise<Diagnosis> {
    const args = [
      "netns",
      "exec",
      this.ns("onprem"),
      process.execPath,
      path.join(REPO_ROOT, "dist", "cli.js"),
      "diagnose",
      ...(options.target ?? [
        "--endpoint",
        ENDPOINT,
        "--api-id",
        API_ID,
        ...STAGES.flatMap((stage) => ["--stage", stage]),
      ]),
      "--ca-file",
      options.caFile,
      "--timeout",
      options.timeout,
      "--format",
      "json",
      ...(options.extra ?? []),
    ];
    const started = Date.now();
    const child = spawn("ip", args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let reportEnded = 0;
    let signalled: number | undefined;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      reportEnded = Date.now();
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // `ip netns exec` execs the command: the child's pid is node's own.
    const interrupt = options.interrupt;
    const sender = interrupt
      ? setTimeout(() => {
          signalled = Date.now();
          child.kill(interrupt.signal);
        }, interrupt.afterMs)
      : undefined;
    return new Promise((resolve, reject) => {
      const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.on("error", reject);
      let exitedAt: number | undefined;
      child.on("exit", () => {
        exitedAt = Date.now();
        clearTimeout(sender);
      });
      child.on("close", (exitCode) => {
        clearTimeout(guard);
        const exited = exitedAt ?? Date.now();
        const wallMs = exited - started;
        const exitAfterReportMs = exited - reportEnded;
        const exitAfterSignalMs = signalled === undefined ? undefined : exited - signalled;
        try {
          const report = JSON.parse(stdout) as LabReport;
          const findings = report.targets.flatMap((target) => target.findings);
          resolve({
            report,
            exitCode,
            wallMs,
            exitAfterReportMs,
            exitAfterSignalMs,
            stderr,
            findings,
          });
        } catch {
          reject(
            new Error(`diagnose printed no JSON report (exit ${exitCode}):\n${stdout}\n${stderr}`),
          );
        }
      });
    });
  }
}

/** The codes a diagnosis named for one address (or, without one, for none: the dns layer). */
export function codesAt(diagnosis: Diagnosis, address?: string): string[] {
  return [
    ...new Set(
      diagnosis.findings
        .filter((finding) => finding.address === address)
        .map((finding) => finding.code),
    ),
  ].sort();
}

/** A compact account of a diagnosis for assertion messages. */
export function describeDiagnosis(diagnosis: Diagnosis): string {
  const rows = diagnosis.findings.map(
    (finding) =>
      `${finding.layer} ${finding.code} ${finding.status} ${finding.address ?? "-"} ${finding.stage ?? "-"}`,
  );
  return [
    `verdict=${diagnosis.report.verdict} exit=${diagnosis.exitCode} ms=${diagnosis.report.durationMs}`,
    ...rows,
  ].join("\n");
}
