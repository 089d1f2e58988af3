// The daemon's status page at `/`: what blackbox_exporter's page offers, for this job. Plain
// server-rendered HTML that refreshes itself and needs no script. Loaded only when someone asks
// for `/`. Everything the network sent (certificate names, bodies, messages) is data, never
// markup: every value goes through the `html` template, which escapes it, and only fragments
// built by that template are inserted as they are.
import type { Finding, Target, TargetReport, TlsFinding, Verdict } from "../types.js";
import { matrix, type Cell } from "./cells.js";

export interface TargetStatus {
  target: Target;
  last?: {
    report: TargetReport;
    startedAt: string;
    finishedAt: string;
    /** When the verdict or the primary cause last changed (the first run counts as a change). */
    changedAt: string;
  };
}

export interface StatusView {
  version: string;
  generatedAt: Date;
  /** The daemon's run interval: the page refreshes about as often, within bounds. */
  intervalMs: number;
  targets: TargetStatus[];
  /** /probe modules, for the page's probe form. */
  modules: string[];
}

const REFRESH_MIN_S = 5;
const REFRESH_MAX_S = 60;

/** Markup built by `html`: the only thing inserted without escaping. */
class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolated = Html | string | number | undefined | null | Interpolated[];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function insert(value: Interpolated): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(insert).join("");
  if (value === undefined || value === null) return "";
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolated[]): Html {
  let out = strings[0] ?? "";
  values.forEach((v, i) => (out += insert(v) + (strings[i + 1] ?? "")));
  return new Html(out);
}

export function renderStatusPage(view: StatusView): string {
  const refresh = Math.min(
    REFRESH_MAX_S,
    Math.max(REFRESH_MIN_S, Math.round(view.intervalMs / 1000)),
  );
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="refresh" content="${refresh}" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>apigw-diag: ${summaryTitle(view.targets)}</title>
        <style>
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <header>
          <h1>apigw-diag</h1>
          <nav>
            <a href="/metrics">Metrics</a> <a href="/report">Report (JSON)</a>
            <a href="/healthz">Health</a>
          </nav>
          <p class="meta">
            version ${view.version} · page generated ${view.generatedAt.toISOString()} · refreshes
            every ${refresh} s
          </p>
        </header>
        <main>
          ${overview(view.targets)} ${view.targets.map(targetSection)} ${probeForm(view.modules)}
        </main>
      </body>
    </html> `.value;
}

function summaryTitle(targets: TargetStatus[]): string {
  const counts = new Map<string, number>();
  for (const t of targets) {
    const v = t.last?.report.verdict ?? "pending";
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  if (counts.size === 0) return "no targets";
  return [...counts].map(([v, n]) => `${n} ${v}`).join(", ");
}

function overview(targets: TargetStatus[]): Html {
  if (targets.length === 0)
    return html`<p>No targets in the config: only <a href="/probe">/probe</a> diagnoses.</p>`;
  const rows = targets.map(({ target, last }) => {
    const cause = last?.report.primaryCause;
    return html`<tr>
      <td><a href="#${anchor(target.name)}">${target.name}</a></td>
      <td>${verdictBadge(last?.report.verdict)}</td>
      <td>${cause ? html`<code>${cause.code}</code>` : "none"}</td>
      <td>${last ? time(last.finishedAt) : "not yet"}</td>
      <td>${last ? time(last.changedAt) : ""}</td>
    </tr>`;
  });
  return html`<table class="overview">
    <thead>
      <tr>
        <th>Target</th>
        <th>Verdict</th>
        <th>Primary cause</th>
        <th>Last run</th>
        <th>Last change</th>
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}

function targetSection({ target, last }: TargetStatus): Html {
  const head = html`<h2>${target.name} ${verdictBadge(last?.report.verdict)}</h2>
    <p class="meta">${describe(target)}</p>`;
  if (!last)
    return html`<section id="${anchor(target.name)}">
      ${head}
      <p>Waiting for the first run.</p>
    </section>`;
  const { report } = last;
  return html`<section id="${anchor(target.name)}" class="target">
    ${head}
    <p class="meta">
      last run ${time(last.finishedAt)} (${report.durationMs} ms) · verdict or cause last changed
      ${time(last.changedAt)}${report.insecure ? " · certificate problems ignored (insecure)" : ""}
    </p>
    ${cause(report)} ${dnsList(report.findings)} ${matrixTable(report)}
  </section>`;
}

function describe(t: Target): string {
  const api = t.apiId ? ` · API ${t.apiId}` : "";
  if (t.domain) {
    const via = t.endpoint ? ` via ${t.endpoint}` : "";
    const paths = t.basePaths.map((p) => `/${p}`).join(", ");
    return `${t.domain}${via}${api} · mode domain · base paths ${paths}`;
  }
  return `${t.endpoint ?? ""}${api} · mode ${t.mode} · stages ${t.stages.join(", ")}`;
}

function cause(report: TargetReport): Html {
  const c = report.primaryCause;
  if (!c)
    return html`<p class="cause ok">Every stage answers as expected through every address.</p>`;
  return html`<div class="cause">
    <p><strong>Cause:</strong> <code>${c.code}</code> ${c.message}</p>
    <p><strong>Fix:</strong> ${c.hint}</p>
  </div>`;
}

function dnsList(findings: Finding[]): Html {
  const dns = findings.filter((f) => f.layer === "dns");
  if (dns.length === 0) return html``;
  return html`<ul class="dns">
    ${dns.map(
      (f) =>
        html`<li class="${f.status}">
          <code>${f.code}</code> ${f.message}${ms(f.timings.dns, "dns")}
        </li>`,
    )}
  </ul>`;
}

function matrixTable(report: TargetReport): Html {
  const m = matrix(report);
  const rows = m.addresses.map((address) => {
    const cells = m.cells.filter((c) => c.address === address);
    return html`<tr>
      <th scope="row">${address || "(no address)"}</th>
      ${cells.map(cellHtml)}
      <td class="cert">${certificate(report.findings, address)}</td>
    </tr>`;
  });
  return html`<table class="matrix">
    <thead>
      <tr>
        <th>Address</th>
        ${m.stages.map((s) => html`<th scope="col">${s}</th>`)}
        <th>Certificate</th>
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}

function cellHtml(c: Cell): Html {
  const shown = c.ok ? c.http : (c.failure ?? c.http);
  if (!shown) return html`<td class="cell none">not tried</td>`;
  const t = shown.timings;
  const title = shown.message;
  return html`<td class="cell ${c.ok ? "ok" : "fail"}" title="${title}">
    <code>${shown.code}</code>
    <span class="t"
      >${[
        ms(t.connect, "connect"),
        ms(t.tls, "tls"),
        ms(t.ttfb, "ttfb"),
        ms(t.total, "total"),
      ]}</span
    >
  </td>`;
}

/** The certificate the address presented: its names come from the network. */
function certificate(findings: Finding[], address: string): Html {
  const tls = findings.find(
    (f): f is TlsFinding => f.layer === "tls" && f.address === address && !f.stage,
  );
  const e = tls?.evidence;
  if (e?.subject === undefined) return html``;
  const field = (label: string, value: string | undefined) =>
    value !== undefined && value !== ""
      ? html`<div><span class="k">${label}</span> ${value}</div>`
      : html``;
  return html`${field("subject", e.subject)}${field("names", e.subjectAltName)}${field(
    "issuer",
    e.issuer,
  )}${field("expires", e.validTo)}`;
}

function ms(value: number | undefined, label: string): Html {
  return value === undefined ? html`` : html` <span>${label} ${Math.round(value)} ms</span>`;
}

function verdictBadge(verdict: Verdict | undefined): Html {
  const v = verdict ?? "pending";
  return html`<span class="verdict ${v}">${v}</span>`;
}

function time(iso: string): Html {
  return html`<time datetime="${iso}">${iso.replace("T", " ").replace(/\.\d+Z$/, " UTC")}</time>`;
}

/** Target names are printable ASCII; an id keeps only what is safe in a fragment. */
function anchor(name: string): string {
  return `target-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

function probeForm(modules: string[]): Html {
  if (modules.length === 0) return html``;
  return html`<section class="probe">
    <h2>Probe</h2>
    <form action="/probe" method="get">
      <label
        >module
        <select name="module">
          ${modules.map((m) => html`<option>${m}</option>`)}
        </select></label
      >
      <label
        >target
        <input name="target" size="70" placeholder="vpce-...execute-api.REGION.vpce.amazonaws.com"
      /></label>
      <button type="submit">Probe</button>
    </form>
  </section>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1rem 2rem;color:#222}
h1{margin:0 0 .2rem}h2{margin:1.5rem 0 .3rem}
nav a{margin-right:1rem}
.meta{color:#555;margin:.2rem 0}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
.verdict{padding:.05rem .4rem;border-radius:.2rem;font-size:.85em;color:#fff;background:#777}
.verdict.healthy{background:#2a7d2a}.verdict.degraded{background:#b07800}.verdict.failing{background:#b02020}
.cell.ok{background:#e6f4e6}.cell.fail{background:#fbe3e3}.cell.none{color:#777}
.cell .t{display:block;font-size:.8em;color:#444}.cell .t span{margin-right:.4rem}
.cause{background:#fff7e0;border-left:4px solid #b07800;padding:.2rem .6rem}
.cause.ok{background:#e6f4e6;border-color:#2a7d2a}
ul.dns{padding-left:1.2rem}ul.dns li.fail{color:#b02020}
.cert{font-size:.8em;max-width:28rem;word-break:break-all}.cert .k{color:#555}
code{font-family:ui-monospace,monospace}
`;
