// What the reports say about hostile peers and about --insecure: a certificate cannot write to
// the terminal, and turning verification off is never silent.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import forge from "node-forge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import type { Report } from "../../src/types.js";
import { addressReply, dnsPeer, type Peer } from "./servers.js";
import { cli, diagnoseFlags } from "../run-cli.js";

/** A self-signed certificate whose names carry terminal escapes and a line break. */
function hostileCertificate(): { cert: string; key: string } {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = "01";
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3_600_000);
  const names = [
    { name: "commonName", value: "proxy\u001b[2J\u001b[1;1HHEALTHY\nfake: line" },
    { name: "organizationName", value: "Corp\u0007" },
  ];
  cert.setSubject(names);
  cert.setIssuer(names);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return {
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(keys.privateKey),
  };
}

describe("a certificate with control characters in its names", () => {
  let dns: Peer;
  let server: tls.Server;
  beforeAll(async () => {
    dns = await dnsPeer((q, reply) => reply(addressReply(q, ["127.0.0.1"])));
    server = tls.createServer(hostileCertificate(), (s) => s.end());
    server.on("tlsClientError", () => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  });
  afterAll(async () => {
    await dns.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it("cannot move the cursor or fake a line in the text report", async () => {
    const r = await cli([
      "diagnose",
      "--endpoint=vpce-0a1b2c3d4e5f60718-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com",
      "--api-id=a1b2c3d4e5",
      "--stage=prod",
      `--resolver=127.0.0.1:${dns.port}`,
      `--port=${(server.address() as net.AddressInfo).port}`,
      "--private-cidr=127.0.0.0/8",
      "--no-compare-os",
      "--timeout=1s",
      "--format=text",
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("TLS_UNTRUSTED_CERT");
    expect(r.stdout).toContain("proxy\\x1b[2J\\x1b[1;1HHEALTHY\\x0afake: line");
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    expect(r.stdout.split("\n").some((l) => l.startsWith("fake"))).toBe(false);
  });
});

describe("TLS verification", () => {
  let sim: Simulator;
  let base: string[];
  let dir: string;
  beforeAll(async () => {
    sim = await startSimulator({ stages: { prod: "ok" } });
    // No --ca-file: the simulator's CA is not among the system roots, so the chain is untrusted.
    base = [...diagnoseFlags(sim, { trustCa: false }), "--timeout=1s"];
    dir = mkdtempSync(join(tmpdir(), "apigw-diag-report-"));
  });
  afterAll(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const json = async (extra: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = await cli([...base, ...extra, "--format=json"], env);
    return { code: r.code, report: JSON.parse(r.stdout) as Report };
  };
  const text = async (extra: string[], env: NodeJS.ProcessEnv = {}) =>
    (await cli([...base, ...extra, "--format=text"], env)).stdout;

  it("is on by default: an untrusted chain fails and nothing above TLS is tried", async () => {
    const { code, report } = await json([]);
    expect(code).toBe(2);
    const t = report.targets[0]!;
    expect(t.insecure).toBe(false);
    expect(t.primaryCause?.code).toBe("TLS_UNTRUSTED_CERT");
    expect(t.findings.some((f) => f.layer === "http")).toBe(false);
    expect(await text([])).not.toMatch(/verification is OFF/);
  });

  it("stays on with --no-insecure and with APIGW_DIAG_INSECURE=false", async () => {
    expect((await json(["--no-insecure"])).report.targets[0]!.insecure).toBe(false);
    const { report } = await json([], { APIGW_DIAG_INSECURE: "false" });
    expect(report.targets[0]!.primaryCause?.code).toBe("TLS_UNTRUSTED_CERT");
  });

  it("is off only with --insecure, and then both reports say so", async () => {
    const { code, report } = await json(["--insecure"]);
    expect(code).toBe(0);
    const t = report.targets[0]!;
    expect(t.insecure).toBe(true);
    const tlsFinding = t.findings.find((f) => f.layer === "tls");
    expect(tlsFinding).toMatchObject({
      status: "warn",
      evidence: { insecureIgnored: "TLS_UNTRUSTED_CERT" },
    });
    expect(tlsFinding?.message).toContain("(ignored: --insecure)");
    expect(await text(["--insecure"])).toMatch(/TLS verification is OFF \(--insecure\)/);
  });

  it("says so too when the environment or the config file turns it off", async () => {
    expect(await text([], { APIGW_DIAG_INSECURE: "true" })).toMatch(/TLS verification is OFF/);
    const file = join(dir, "insecure.json");
    writeFileSync(file, JSON.stringify({ insecure: true }));
    const { report } = await json([`--config=${file}`]);
    expect(report.targets[0]!.insecure).toBe(true);
  });

  it("refuses concurrency 0 from the environment instead of ending silently with exit 0", async () => {
    const r = await cli([...base, "--insecure", "--format=json"], { APIGW_DIAG_CONCURRENCY: "0" });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/concurrency: 0/);
  });
});
