// The daemon's door in the real clients that will knock on it, on loopback: curl over TLS with the
// test CA, Debian's Prometheus scraping with basic_auth, and Debian's chromium loading the status
// page over TLS. A missing client is skipped with a banner; with CI=true it fails instead
// (.ci/run installs them).
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/file.js";
import { resolveSettings } from "../../src/config/load.js";
import { startDaemon, type Daemon } from "../../src/daemon/index.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { doorPki, htpasswdHash, type DoorPki } from "./door-certs.js";
import { simDaemon, simulatorConfig, waitFor } from "./helpers.js";

const CHROMIUM = process.env.APIGW_DIAG_CHROMIUM ?? "/usr/bin/chromium";
const onPath = (bin: string) => spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0;
const have = {
  curl: onPath("curl"),
  prometheus: onPath("prometheus"),
  chromium: existsSync(CHROMIUM),
};
const inCi = process.env.CI === "true";
const missing = Object.entries(have)
  .filter(([, ok]) => !ok)
  .map(([name]) => name);
if (missing.length > 0) {
  const banner = "!".repeat(78);
  console.error(
    `\n${banner}\n!! DOOR CLIENT TESTS NOT RUN FOR: ${missing.join(", ")}\n!! ${
      inCi
        ? "CI=true: failing."
        : "Skipping. apt-get install curl prometheus chromium; .ci/run does."
    }\n${banner}\n`,
  );
  if (inCi)
    describe("door client prerequisites", () => {
      it("finds curl, prometheus and chromium", () =>
        expect.fail(`missing: ${missing.join(", ")}`));
    });
}

const USER = "prometheus";
const PASSWORD = "scrape-s3cret";

describe("the daemon's door in real clients", () => {
  let sim: Simulator;
  let pki: DoorPki;
  let daemon: Daemon;
  beforeAll(async () => {
    sim = await startSimulator({ stages: { prod: "ok", v2: "ok" } });
    pki = doorPki();
    const web = pki.write(
      "web-config.yml",
      `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n` +
        `basic_auth_users:\n  ${USER}: ${htpasswdHash(PASSWORD)}\n`,
    );
    const config = simulatorConfig(sim, { interval: "500ms" }).replace(
      "daemon:\n",
      `daemon:\n  webConfig: ${JSON.stringify(web)}\n`,
    );
    const settings = resolveSettings({}, {}, parseConfigText(config, "door.yaml"));
    daemon = await startDaemon({
      settings,
      log: pino({ level: "silent" }),
      processMetrics: false,
      ...simDaemon(sim),
    });
    await waitFor("a first run", async () =>
      [...(await daemon.metrics.render())].join("").includes("apigw_diag_target_verdict{")
        ? true
        : undefined,
    );
  }, 60_000);
  afterAll(async () => {
    await daemon?.stop();
    await sim?.close();
    pki?.remove();
  });

  it.skipIf(!have.curl)(
    "answers curl over TLS with the test CA, and asks it for basic auth",
    async () => {
      // Asynchronous: the daemon answering runs in this process.
      const curl = (...args: string[]) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
          execFile(
            "curl",
            [
              "-sS",
              "--noproxy",
              "*",
              "--max-time",
              "10",
              "--cacert",
              path.join(pki.dir, "ca.crt"),
              "--resolve",
              `localhost:${daemon.port}:127.0.0.1`,
              ...args,
            ],
            { encoding: "utf8", timeout: 15_000 },
            (err, stdout, stderr) =>
              resolve({ code: err ? Number(err.code ?? -1) : 0, stdout, stderr }),
          ),
        );
      const url = `https://localhost:${daemon.port}`;
      const refused = await curl(
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{ssl_verify_result}",
        `${url}/metrics`,
      );
      expect(refused.code, refused.stderr).toBe(0);
      expect(refused.stdout).toBe("401 0"); // verified against the test CA, then refused
      const metrics = await curl("-f", "-u", `${USER}:${PASSWORD}`, `${url}/metrics`);
      expect(metrics.code, metrics.stderr).toBe(0);
      expect(metrics.stdout).toMatch(/^apigw_diag_target_verdict\{target="sim"/m);
      const health = await curl("-f", "-u", `${USER}:${PASSWORD}`, `${url}/healthz`);
      expect(JSON.parse(health.stdout)).toMatchObject({ status: "ok" });
      const untrusted = await curl(
        "-o",
        "/dev/null",
        "--cacert",
        path.join(pki.dir, "client-ca.crt"),
        `${url}/healthz`,
      );
      expect(untrusted.code).toBe(60); // curl: peer certificate cannot be authenticated
    },
  );

  it.skipIf(!have.prometheus)(
    "is scraped by Prometheus with scheme https and basic_auth, and is down for a wrong password",
    async () => {
      const port = await freePort();
      pki.write("password", PASSWORD);
      const config = pki.write(
        "prometheus.yml",
        [
          "global: { scrape_interval: 1s, scrape_timeout: 1s }",
          "scrape_configs:",
          ...["apigw-diag", "wrong-password"].map((job) =>
            [
              `  - job_name: ${job}`,
              "    scheme: https",
              "    tls_config:",
              `      ca_file: ${path.join(pki.dir, "ca.crt")}`,
              "      server_name: localhost",
              "    basic_auth:",
              `      username: ${USER}`,
              job === "apigw-diag"
                ? `      password_file: ${path.join(pki.dir, "password")}`
                : "      password: not-the-password",
              `    static_configs: [{ targets: ["127.0.0.1:${daemon.port}"] }]`,
            ].join("\n"),
          ),
          "",
        ].join("\n"),
      );
      const prom = spawn(
        "prometheus",
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${path.join(pki.dir, "tsdb")}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: "ignore" },
      );
      try {
        const up = (job: string) => query(port, `up{job="${job}"}`).catch(() => undefined);
        await waitFor(
          "Prometheus to scrape",
          async () => ((await up("apigw-diag")) === 1 ? true : undefined),
          30_000,
        );
        await waitFor(
          "the wrong password to be down",
          async () => ((await up("wrong-password")) === 0 ? true : undefined),
          30_000,
        );
        expect(
          await query(port, `count(apigw_diag_target_verdict{job="apigw-diag"})`),
        ).toBeGreaterThan(0);
      } finally {
        await stop(prom);
      }
    },
    60_000,
  );

  it.skipIf(!have.chromium)(
    "loads the status page over TLS in chromium with basic auth",
    async () => {
      const { chromium } = await import("playwright-core");
      // Chromium trusts the server's key alone (its SPKI pin), not every certificate.
      const spki = createHash("sha256")
        .update(
          new X509Certificate(pki.server.certPem).publicKey.export({ type: "spki", format: "der" }),
        )
        .digest("base64");
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          `--ignore-certificate-errors-spki-list=${spki}`,
          "--host-resolver-rules=MAP localhost 127.0.0.1",
        ],
      });
      try {
        const url = `https://localhost:${daemon.port}/`;
        const anonymous = await browser.newContext();
        // Chromium asks for credentials; with none to give, it gives up on the 401.
        await expect((await anonymous.newPage()).goto(url)).rejects.toThrow(
          /ERR_INVALID_AUTH_CREDENTIALS/,
        );
        await anonymous.close();
        const context = await browser.newContext({
          httpCredentials: { username: USER, password: PASSWORD },
        });
        const page = await context.newPage();
        const answer = await page.goto(url);
        expect(answer?.status()).toBe(200);
        expect(answer?.url()).toBe(url);
        expect(await answer?.securityDetails()).toMatchObject({
          protocol: expect.stringMatching(/^TLS 1\.[23]$/),
        });
        await expect.poll(() => page.textContent("body")).toContain("sim");
        await context.close();
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function query(port: number, expr: string): Promise<number | undefined> {
  const res = await fetch(
    `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`,
    {
      signal: AbortSignal.timeout(2_000),
    },
  );
  const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
  const first = body.data?.result?.[0];
  return first ? Number(first.value[1]) : undefined;
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
