// The built daemon with a web config, as a real child process: --web-config, APIGW_DIAG_WEB_CONFIG
// and daemon.webConfig all name it; an unusable file refuses to start (one line, exit 3), and on
// SIGHUP is refused with the old one kept.
import { writeFileSync } from "node:fs";
import https from "node:https";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { doorPki, htpasswdHash, type DoorPki } from "./door-certs.js";
import { simulatorConfig, spawnDaemon, waitFor, type DaemonChild } from "./helpers.js";

function startDaemon(args: string[], env: NodeJS.ProcessEnv = {}): DaemonChild {
  return spawnDaemon(args, { env });
}

function status(port: number, ca: string, auth?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: "127.0.0.1",
        servername: "localhost",
        port,
        path: "/healthz",
        ca,
        agent: false,
        timeout: 5_000,
        headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString("base64")}` } : {},
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

const webYaml = (user: string, hash: string) =>
  `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  ${user}: ${hash}\n`;

describe("daemon --web-config (child process)", () => {
  let sim: Simulator;
  let pki: DoorPki;
  let hash: string;
  let child: DaemonChild | undefined;
  beforeAll(async () => {
    sim = await startSimulator({ stages: { prod: "ok", v2: "ok" } });
    pki = doorPki();
    hash = htpasswdHash("s3cret");
  });
  afterAll(async () => {
    await sim.close();
    pki.remove();
  });
  afterEach(async () => {
    if (child && child.proc.exitCode === null && child.proc.signalCode === null) {
      child.proc.kill("SIGKILL");
      await child.exited;
    }
    child = undefined;
  });

  it.each([
    [
      "--web-config",
      (config: string, web: string): [string[], NodeJS.ProcessEnv] => [
        ["--config", config, "--web-config", web],
        {},
      ],
    ],
    [
      "APIGW_DIAG_WEB_CONFIG",
      (config: string, web: string): [string[], NodeJS.ProcessEnv] => [
        ["--config", config],
        { APIGW_DIAG_WEB_CONFIG: web },
      ],
    ],
  ])("refuses to start with an unusable file named by %s: one line, exit 3", async (_, how) => {
    const config = pki.write("daemon.yaml", simulatorConfig(sim));
    const web = pki.write("broken-web.yml", "tls_server_config:\n  cert_file: server.crt\n");
    const [args, env] = how(config, web);
    const c = (child = startDaemon(args, env));
    expect((await c.exited).code).toBe(3);
    expect(c.stderr()).toMatch(
      /^apigw-diag: web config .*broken-web\.yml: tls_server_config: missing one of key or key_file\n$/,
    );
    expect(c.lines.some((l) => l.event === "listening")).toBe(false);
  });

  it("serves HTTPS with basic auth from daemon.webConfig, and keeps the old file when a reload's is unusable", async () => {
    const web = pki.write("web.yml", webYaml("prometheus", hash));
    const config = pki.write(
      "daemon-web.yaml",
      simulatorConfig(sim).replace("daemon:\n", `daemon:\n  webConfig: ${JSON.stringify(web)}\n`),
    );
    const c = (child = startDaemon(["--config", config]));
    const listening = await waitFor("listening", () =>
      c.lines.find((l) => l.event === "listening"),
    );
    const port = listening.port as number;
    expect(await status(port, pki.caPem)).toBe(401);
    expect(await status(port, pki.caPem, "prometheus:s3cret")).toBe(200);

    writeFileSync(web, webYaml("prometheus", "not-a-hash"));
    c.proc.kill("SIGHUP");
    const failed = await waitFor("reload_failed", () =>
      c.lines.find((l) => l.event === "reload_failed"),
    );
    expect(failed.reason).toMatch(/basic_auth_users\.prometheus: not a bcrypt hash/);
    expect(await status(port, pki.caPem)).toBe(401);
    expect(await status(port, pki.caPem, "prometheus:s3cret")).toBe(200);

    writeFileSync(web, webYaml("scraper", hash));
    c.proc.kill("SIGHUP");
    await waitFor("reload", () => c.lines.find((l) => l.event === "reload"));
    expect(await status(port, pki.caPem, "prometheus:s3cret")).toBe(401);
    expect(await status(port, pki.caPem, "scraper:s3cret")).toBe(200);

    c.proc.kill("SIGTERM");
    expect((await c.exited).code).toBe(0);
    expect(c.stderr()).toBe("");
  });
});
