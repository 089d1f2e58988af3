// The status page as HTML: what it shows per target, and that what the network sent stays text.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/file.js";
import { resolveSettings } from "../../src/config/load.js";
import { startDaemon } from "../../src/daemon/index.js";
import { escapeHtml, html, renderStatusPage } from "../../src/daemon/status-page.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import type {
  Finding,
  FindingCode,
  Layer,
  Target,
  TargetReport,
  TlsEvidence,
} from "../../src/types.js";
import { simDaemon, simulatorConfig, waitFor } from "./helpers.js";

const MARKUP = `<img src=x onerror="document.title='pwned'">`;
const SCRIPT = `<script>document.title='pwned'</script>`;

function finding(
  layer: Layer,
  code: FindingCode,
  where: { address?: string; stage?: string },
  extra: { message?: string; cert?: Partial<TlsEvidence> } = {},
): Finding {
  const status = code.endsWith("_OK") ? "pass" : "fail";
  const timings = { connect: 3, tls: 5, ttfb: 7, total: 17 };
  const common = { status, ...where, timings, message: extra.message ?? "m", hint: "h" } as const;
  const c = code as never;
  if (layer === "dns") return { ...common, layer, code: c, evidence: {} };
  if (layer === "path") return { ...common, layer, code: c, evidence: {} };
  if (layer === "tcp") return { ...common, layer, code: c, evidence: { port: 443 } };
  if (layer === "tls")
    return { ...common, layer, code: c, evidence: { servername: "s", ...extra.cert } };
  if (layer === "aws") return { ...common, layer, code: c, evidence: {} };
  return { ...common, layer, code: c, evidence: { request: "GET /" } };
}

const TARGET: Target = {
  name: "orders<b>",
  endpoint: "vpce-0123456789abcdef-abcd1234.execute-api.us-east-1.vpce.amazonaws.com",
  apiId: "a1b2c3d4e5",
  stages: ["prod", "v2"],
  mode: "header",
  basePaths: [],
  family: "auto",
  compareModes: false,
  path: "/",
  expectStatus: [],
  headers: [],
  port: 443,
  resolvers: [],
  timeoutMs: 5000,
  privateCidrs: [],
  compareOs: false,
  insecure: false,
};

/** Address .1 fine; .2 presents a certificate whose names and issuer hold markup. */
const REPORT: TargetReport = {
  name: TARGET.name,
  endpoint: TARGET.endpoint ?? null,
  apiId: TARGET.apiId ?? null,
  mode: "header",
  stages: ["prod", "v2"],
  addresses: ["10.0.0.1", "10.0.0.2"],
  verdict: "degraded",
  primaryCause: {
    layer: "tls",
    code: "TLS_UNTRUSTED_CERT",
    message: `certificate not trusted, issued by CN=${MARKUP}`,
    hint: `a TLS-inspecting proxy ${SCRIPT}`,
    addresses: ["10.0.0.2"],
    stages: ["prod", "v2"],
  },
  skipped: [],
  unfinished: [],
  insecure: false,
  comparisonRequests: 0,
  durationMs: 42,
  findings: [
    finding("dns", "DNS_OK", {}, { message: "10.0.0.53:53: name -> 10.0.0.1, 10.0.0.2" }),
    finding("tcp", "TCP_OK", { address: "10.0.0.1" }),
    finding("tls", "TLS_OK", { address: "10.0.0.1" }, { cert: { subject: "CN=good" } }),
    finding("http", "HTTP_OK", { address: "10.0.0.1", stage: "prod" }),
    finding("http", "HTTP_FORBIDDEN", { address: "10.0.0.1", stage: "v2" }),
    finding("tcp", "TCP_OK", { address: "10.0.0.2" }),
    finding(
      "tls",
      "TLS_UNTRUSTED_CERT",
      { address: "10.0.0.2" },
      {
        message: `issued by ${MARKUP}`,
        cert: { subject: `CN=${MARKUP}`, subjectAltName: `DNS:${SCRIPT}`, issuer: SCRIPT },
      },
    ),
  ],
};

/** The page with the whitespace between tags gone, for assertions on its structure. */
function page(targets = [{ target: TARGET, last: LAST }]): string {
  return flat(
    renderStatusPage({
      version: "9.9.9",
      generatedAt: new Date("2026-01-02T03:04:05Z"),
      intervalMs: 30_000,
      targets,
      modules: ["sim"],
    }),
  );
}

const flat = (text: string): string => text.replace(/>\s+</g, "><").replace(/\s+/g, " ");

const LAST = {
  report: REPORT,
  startedAt: "2026-01-02T03:00:00.000Z",
  finishedAt: "2026-01-02T03:00:01.000Z",
  changedAt: "2026-01-02T02:00:00.000Z",
};

describe("status page", () => {
  it("escapes every value and inserts only what its own template built", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      "&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;",
    );
    const inner = html`<b>${"<i>"}</b>`;
    expect(html`<p>${inner}${["<", html`<br />`]}${undefined}${3}</p>`.value).toBe(
      "<p><b>&#60;i&#62;</b>&#60;<br />3</p>",
    );
  });

  it("shows certificate names, messages and hints that hold markup as text", () => {
    const out = page();
    expect(out).not.toMatch(/<script|<img|<b>/i);
    expect(out).toContain(escapeHtml(`CN=${MARKUP}`));
    expect(out).toContain(escapeHtml(`DNS:${SCRIPT}`));
    expect(out).toContain(escapeHtml(`a TLS-inspecting proxy ${SCRIPT}`));
    expect(out).toContain(escapeHtml("orders<b>"));
  });

  it("shows the verdict, cause, hint, last change and the address x stage matrix", () => {
    const out = page();
    expect(out).toContain('<meta http-equiv="refresh" content="30" />');
    expect(out).toContain('<a href="/metrics">');
    expect(out).toContain('<a href="/report">');
    expect(out).toMatch(/<span class="verdict degraded">degraded<\/span>/);
    expect(out).toContain("<code>TLS_UNTRUSTED_CERT</code>");
    expect(out).toContain(
      '<time datetime="2026-01-02T02:00:00.000Z">2026-01-02 02:00:00 UTC</time>',
    );
    const matrix = /<table class="matrix">([\s\S]*?)<\/table>/.exec(out)?.[1] ?? "";
    const rows = [...matrix.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1] ?? "");
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/Address<\/th><th scope="col">prod<\/th><th scope="col">v2<\/th>/);
    const codes = (row: string) => [...row.matchAll(/<code>(\w+)<\/code>/g)].map((m) => m[1]);
    expect(rows[1]).toContain("10.0.0.1");
    expect(codes(rows[1]!)).toEqual(["HTTP_OK", "HTTP_FORBIDDEN"]);
    expect(rows[1]).toMatch(/connect 3 ms<\/span><span>tls 5 ms<\/span><span>ttfb 7 ms/);
    expect(codes(rows[2]!)).toEqual(["TLS_UNTRUSTED_CERT", "TLS_UNTRUSTED_CERT"]);
  });

  it("keeps the refresh between 5 s and 60 s, and says when a target has not run yet", () => {
    const pending = renderStatusPage({
      version: "1",
      generatedAt: new Date(),
      intervalMs: 3_600_000,
      targets: [{ target: TARGET }],
      modules: [],
    });
    expect(pending).toMatch(/http-equiv="refresh" content="60"/);
    expect(pending).toContain("Waiting for the first run.");
    expect(pending).not.toContain('action="/probe"');
  });
});

describe("status page served by the daemon", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  it("answers / with HTML that may run no script, and with the target's matrix", async () => {
    const settings = resolveSettings(
      {},
      {},
      parseConfigText(simulatorConfig(sim, { interval: "1h" }), "t.yaml"),
    );
    const d = await startDaemon({
      settings,
      log: pino({ level: "silent" }),
      processMetrics: false,
      ...simDaemon(sim),
    });
    try {
      const body = await waitFor("a first run on the page", async () => {
        const text = await (await fetch(`http://127.0.0.1:${d.port}/`)).text();
        return text.includes("verdict healthy") ? text : undefined;
      });
      const res = await fetch(`http://127.0.0.1:${d.port}/`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
      expect(res.headers.get("content-security-policy")).not.toMatch(/script-src/);
      for (const address of sim.addresses)
        expect(body).toContain(`<th scope="row">${address}</th>`);
      expect(body.match(/<code>HTTP_OK<\/code>/g)).toHaveLength(4);
    } finally {
      await d.stop("test");
    }
  });
});
