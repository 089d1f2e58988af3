// The status page in a real browser: Debian's chromium driven by playwright-core (no browser
// download). The daemon runs against the simulator on loopback, plus a TLS server of the test's
// own whose certificate names hold markup. Without chromium the test is skipped loudly; with
// CI=true it fails instead (.ci/run installs chromium before npm test).
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import forge from "node-forge";
import pino from "pino";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/file.js";
import { resolveSettings } from "../../src/config/load.js";
import { startDaemon, type Daemon } from "../../src/daemon/index.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { second } from "../helpers.js";
import { simDaemon, simulatorConfig, waitFor } from "./helpers.js";

const CHROMIUM = process.env.APIGW_DIAG_CHROMIUM ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === "true";
const IMG = `<img src=x onerror="document.title='pwned-img'">`;
const SCRIPT = `<script>document.title='pwned-script'</script>`;

if (!hasChromium) {
  const banner = "!".repeat(78);
  console.error(
    `\n${banner}\n!! STATUS PAGE BROWSER TEST NOT RUN: no ${CHROMIUM}\n!! ${
      inCi
        ? "CI=true: failing."
        : "Skipping. apt-get install chromium (Debian) to run it; .ci/run does."
    }\n${banner}\n`,
  );
}

if (!hasChromium && inCi) {
  describe("status page browser test prerequisites", () => {
    it("finds Debian's chromium", () => {
      expect.fail(`${CHROMIUM} is missing: .ci/run installs the chromium package`);
    });
  });
}

/** A self-signed certificate whose subject, issuer and names hold markup. */
function markupCertificate(): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = `01${randomBytes(8).toString("hex")}`;
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const subject = [
    { name: "commonName", value: IMG },
    { name: "organizationName", value: SCRIPT },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([{ name: "subjectAltName", altNames: [{ type: 2, value: SCRIPT }] }]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: privateKey };
}

/** The same TLS server on each address, on one port: where the hostile target's DNS points. */
async function markupTlsServers(addresses: string[]): Promise<{ port: number; close(): void }> {
  const identity = markupCertificate();
  for (let attempt = 0; ; attempt++) {
    const servers: tls.Server[] = [];
    try {
      let port = 0;
      for (const address of addresses) {
        const server = tls.createServer(identity, (s) => s.destroy());
        server.on("tlsClientError", () => {});
        servers.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(port, address, () => resolve());
        });
        port = (server.address() as net.AddressInfo).port;
      }
      return { port, close: () => servers.forEach((s) => s.close()) };
    } catch (err) {
      servers.forEach((s) => s.close());
      if (attempt === 5) throw err;
    }
  }
}

describe.skipIf(!hasChromium)("status page in chromium", () => {
  let sim: Simulator;
  let hostile: { port: number; close(): void };
  let daemon: Daemon;
  let browser: Browser;

  beforeAll(async () => {
    sim = await startSimulator({ stages: { prod: "ok", v2: "forbidden" } });
    sim.setFaults({ address: { [second(sim)]: "refuse" } });
    hostile = await markupTlsServers(sim.addresses);
    const config = [
      simulatorConfig(sim, { name: "sim", interval: "1h" }),
      // The same endpoint name (so the simulator's DNS answers), another port: the markup server.
      `  - name: hostile`,
      `    endpoint: ${sim.endpoint}`,
      `    apiId: ${sim.apiId}`,
      `    stages: [prod]`,
      `    port: ${hostile.port}`,
      ``,
    ].join("\n");
    const settings = resolveSettings({}, {}, parseConfigText(config, "browser.yaml"));
    daemon = await startDaemon({
      settings,
      log: pino({ level: "silent" }),
      processMetrics: false,
      ...simDaemon(sim),
    });
    const d = daemon;
    await waitFor(
      "both targets' first run",
      async () => {
        const r = await fetch(`http://127.0.0.1:${d.port}/report`);
        const doc = (await r.json()) as { pending: string[]; targets: unknown[] };
        return doc.targets.length === 2 || undefined;
      },
      20_000,
    );
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop("test");
    hostile?.close();
    await sim?.close();
  });

  it("renders the address x stage matrix with codes and timings", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${daemon.port}/`);
      const section = page.locator("#target-sim");
      await expect(section.locator(".verdict").first().textContent()).resolves.toBe("degraded");
      const headers = await section.locator("table.matrix thead th").allTextContents();
      expect(headers.map((h) => h.trim())).toEqual(["Address", "prod", "v2", "Certificate"]);
      const rows = section.locator("table.matrix tbody tr");
      expect(await rows.count()).toBe(2);
      const codes = async (i: number) =>
        (await rows.nth(i).locator("td.cell code").allTextContents()).map((c) => c.trim());
      expect(await rows.nth(0).locator("th").textContent()).toBe("127.0.0.1");
      expect(await codes(0)).toEqual(["HTTP_OK", "HTTP_FORBIDDEN"]);
      expect(await codes(1)).toEqual(["TCP_REFUSED", "TCP_REFUSED"]);
      expect(await rows.nth(0).locator("td.cell").first().textContent()).toMatch(
        /connect \d+ ms\s+tls \d+ ms\s+ttfb \d+ ms\s+total \d+ ms/,
      );
      expect(await section.locator(".cause").textContent()).toMatch(/Fix:/);
      expect(await page.locator('meta[http-equiv="refresh"]').getAttribute("content")).toBe("60");
      expect(await page.locator('a[href="/metrics"]').count()).toBe(1);
      expect(await page.locator('a[href="/report"]').count()).toBe(1);
    } finally {
      await page.close();
    }
  });

  it("shows a certificate whose names hold markup as text, and runs no script", async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    const errors: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(`http://127.0.0.1:${daemon.port}/`);
      const section = page.locator("#target-hostile");
      const cert = await section.locator("td.cert").first().textContent();
      expect(cert).toContain(IMG);
      expect(cert).toContain(SCRIPT);
      expect(await section.locator("td.cell code").first().textContent()).toBe(
        "TLS_UNTRUSTED_CERT",
      );
      expect(await section.locator(".cause").textContent()).toContain(IMG);
      // Nothing the network sent became an element, and nothing ran.
      expect(await page.locator("img").count()).toBe(0);
      expect(await page.locator("script").count()).toBe(0);
      expect(await page.title()).toMatch(/^apigw-diag: /);
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it("works without JavaScript", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${daemon.port}/`);
      expect(await page.locator("table.matrix").count()).toBe(2);
      expect(await page.locator("#target-sim td.cell").count()).toBe(4);
    } finally {
      await context.close();
    }
  });
});
