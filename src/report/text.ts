// The ten-second report: verdict first, then the primary cause and its hint, then a table.
import type { Finding, HttpEvidence, Layer, Report, TargetReport, Verdict } from "../types.js";

export interface TextOptions {
  color: boolean;
}

const COLORS = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
type Color = keyof typeof COLORS;

export function renderText(report: Report, opts: TextOptions): string {
  const paint = (c: Color, s: string) => (opts.color ? `\x1b[${COLORS[c]}m${s}\x1b[0m` : s);
  const out: string[] = [];
  if (report.interrupted)
    out.push(
      paint(
        "bold",
        paint("yellow", `INTERRUPTED after ${report.durationMs} ms: what finished is below`),
      ),
      "",
    );
  for (const t of report.targets) out.push(...renderTarget(t, paint), "");
  if (report.targets.length > 1)
    out.push(`overall: ${verdictWord(report.verdict, paint)} (exit ${report.exitCode})`);
  else
    out.push(
      paint(
        "dim",
        `exit ${report.exitCode} · ${report.durationMs} ms · apigw-diag ${report.tool.version}`,
      ),
    );
  return `${out.join("\n")}\n`;
}

/**
 * What peers sent (certificate names, error text) reaches these lines: control characters are
 * shown escaped, so a hostile answer cannot move the cursor, clear the screen or fake a line.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) =>
    c === "\t" ? " " : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

function verdictWord(v: Verdict, paint: (c: Color, s: string) => string): string {
  const color: Color = v === "healthy" ? "green" : v === "degraded" ? "yellow" : "red";
  return paint("bold", paint(color, v.toUpperCase()));
}

function renderTarget(t: TargetReport, paint: (c: Color, s: string) => string): string[] {
  const what =
    t.mode === "domain"
      ? `${t.domain ?? "?"}${t.endpoint ? ` via ${t.endpoint}` : ""}${t.apiId ? ` · api ${t.apiId}` : ""} · mode domain · base paths ${t.stages.join(", ")}`
      : `${t.endpoint ?? "?"} · api ${t.apiId ?? "?"} · mode ${t.mode} · stages ${t.stages.join(", ")}`;
  // Cut short: the verdict speaks of what finished only, and the headline says so first.
  const word =
    t.unfinished.length > 0
      ? `${paint("bold", paint("yellow", "UNFINISHED"))} (${t.verdict} so far)`
      : verdictWord(t.verdict, paint);
  const lines = [`${word}  ${printable(t.name)}: ${what}`];
  if (t.insecure)
    lines.push(
      paint(
        "yellow",
        "  TLS verification is OFF (--insecure): certificate problems are not failures",
      ),
    );
  if (t.primaryCause) {
    lines.push(
      `  cause: ${paint("bold", t.primaryCause.code)}  ${printable(t.primaryCause.message)}`,
    );
    lines.push(`  fix:   ${printable(t.primaryCause.hint)}`);
  }
  const dnsLines = t.findings.filter((f) => f.layer === "dns");
  for (const f of dnsLines)
    lines.push(`  dns  ${mark(f, paint)} ${f.code.padEnd(20)} ${printable(f.message)}`);
  // Where each address's packets leave: source, interface, gateway, MTU, AZ (DESIGN: path).
  for (const f of t.findings.filter((f) => f.layer === "path"))
    lines.push(`  path ${mark(f, paint)} ${f.code.padEnd(20)} ${printable(f.message)}`);
  // The target's own TLS check, not an address's: it has no cell in the table.
  for (const f of t.findings.filter((x) => x.code === "TLS_12_REFUSED"))
    lines.push(`  tls  ${mark(f, paint)} ${f.code.padEnd(20)} ${printable(f.message)}`);
  lines.push("", ...table(t, paint));
  lines.push(...comparisons(t, paint));
  lines.push(...httpDetails(t, paint));
  lines.push(...awsLines(t, paint));
  for (const u of t.unfinished) {
    const where = u.resolver ?? ([u.address, u.stage].filter(Boolean).join(" ") || "all");
    lines.push(paint("yellow", `  not finished on ${where}: ${u.layer} (interrupted)`));
  }
  for (const s of t.skipped) {
    const where = [s.address, s.stage].filter(Boolean).join(" ") || "all addresses";
    lines.push(
      paint("dim", `  not tried on ${where}: ${s.layers.join(", ")} (${printable(s.reason)})`),
    );
  }
  return lines;
}

/** The aws layer (--aws): what it found, each with the resource and the change. */
function awsLines(t: TargetReport, paint: (c: Color, s: string) => string): string[] {
  const lines: string[] = [];
  for (const f of t.findings) {
    if (f.layer !== "aws") continue;
    lines.push(`  aws  ${mark(f, paint)} ${f.code} ${printable(f.message)}`);
    if (f.status !== "pass") lines.push(paint("dim", `       fix: ${printable(f.hint)}`));
    const skipped = f.evidence.notEvaluated ?? [];
    if (skipped.length)
      lines.push(paint("dim", `       not evaluated: ${printable(skipped.join("; "))}`));
  }
  return lines.length ? ["", ...lines] : [];
}

/** What the other access modes answered through the same address, when the tool compared. */
function comparisons(t: TargetReport, paint: (c: Color, s: string) => string): string[] {
  if (!t.comparisons?.length) return [];
  const sent =
    t.comparisonRequests > 0
      ? `${t.comparisonRequests} comparison request${t.comparisonRequests === 1 ? "" : "s"} sent`
      : "no request sent: answers of an earlier run, reused while the findings are unchanged";
  const lines = ["", `  compared with other access modes (the run used mode ${t.mode}; ${sent}):`];
  for (const a of t.comparisons) {
    const answer =
      a.status !== undefined
        ? `${a.status} ${a.code ?? ""}${a.requestId ? ` (request id ${printable(a.requestId)})` : ""}`
        : `no answer: ${printable(a.error ?? "?")}`;
    lines.push(
      paint(
        "dim",
        `    ${a.address} ${a.stage}: ${a.mode} mode, ${printable(a.request)} -> ${answer}`,
      ),
    );
  }
  return lines;
}

/**
 * Every HTTP answer that was not OK, in full: its whole message (the ARN and the policy an
 * AccessDenied names are at its end), and what an AWS support case asks for.
 */
function httpDetails(t: TargetReport, paint: (c: Color, s: string) => string): string[] {
  const lines: string[] = [];
  for (const f of t.findings) {
    if (f.layer !== "http" || f.status === "pass") continue;
    const where = [f.address, f.stage].filter(Boolean).join(" ");
    lines.push(`  http ${mark(f, paint)} ${f.code} ${where}: ${printable(f.message)}`);
    const support = supportLine(f.evidence);
    if (support) lines.push(paint("dim", `       support: ${printable(support)}`));
  }
  return lines.length ? ["", ...lines] : [];
}

function supportLine(e: HttpEvidence): string {
  const tls = [e.tlsVersion, e.tlsCipher].filter(Boolean).join(" ");
  return [
    `x-amzn-RequestId ${e.requestId ?? "-"}`,
    `x-amz-apigw-id ${e.apigwId ?? "-"}`,
    e.requestedAt && `sent ${e.requestedAt}`,
    e.sni && `SNI ${e.sni}`,
    e.host && `Host ${e.host}`,
    tls,
  ]
    .filter(Boolean)
    .join(" · ");
}

function mark(f: Finding, paint: (c: Color, s: string) => string): string {
  return f.status === "pass"
    ? paint("green", "ok  ")
    : f.status === "warn"
      ? paint("yellow", "warn")
      : paint("red", "FAIL");
}

/** One row per address x stage: the code each layer gave, and the phase timings. */
function table(t: TargetReport, paint: (c: Color, s: string) => string): string[] {
  const addresses = t.addresses;
  if (addresses.length === 0) return [];
  const header = [
    "ADDRESS",
    "AZ",
    "SOURCE",
    "IFACE",
    "STAGE",
    "TCP",
    "TLS",
    "HTTP",
    "CONNECT",
    "TLS ms",
    "TTFB",
    "TOTAL",
  ];
  const rows: string[][] = [];
  for (const address of addresses) {
    const info = t.addressInfo?.find((i) => i.address === address);
    const path = [info?.az ?? "-", info?.source ?? "-", printable(info?.interface ?? "-")];
    for (const stage of t.stages) {
      const at = (layer: Layer) =>
        t.findings.find((f) => f.layer === layer && f.address === address && f.stage === stage) ??
        t.findings.find((f) => f.layer === layer && f.address === address && f.stage === undefined);
      const [tcp, tls, http] = [at("tcp"), at("tls"), at("http")];
      const cut = t.unfinished.find((u) => u.address === address && u.stage === stage)?.layer;
      const code = (f: Finding | undefined, layer: Layer) =>
        f?.code ?? (cut === layer ? "UNFINISHED" : "-");
      const ms = (n: number | undefined) => (n === undefined ? "-" : String(Math.round(n)));
      const last = http ?? tls ?? tcp;
      rows.push([
        address,
        ...path,
        stage,
        code(tcp, "tcp"),
        code(tls, "tls"),
        code(http, "http"),
        ms(last?.timings.connect),
        ms(last?.timings.tls),
        ms(http?.timings.ttfb),
        ms(last?.timings.total),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (r: string[]) =>
    `  ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")}`.trimEnd();
  const color = (r: string[]) => {
    const line = fmt(r);
    const failed = r.slice(5, 8).some((c) => c !== "-" && !c.endsWith("_OK"));
    return failed ? paint("red", line) : paint("green", line);
  };
  return [paint("dim", fmt(header)), ...rows.map(color)];
}
