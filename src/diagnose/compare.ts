// The tool's own comparison of access modes (DESIGN: access modes). When every stage through an
// address is refused alike (403 Forbidden or 421 Misdirected Request), the same address is asked
// again under the API's other names:
// - header mode: host mode (SNI and Host = the private DNS name) and alias mode (the Route 53
//   alias). If either answers as API Gateway with anything but a refusal, header mode is what is
//   refused: HTTP_MODE_REJECTED (STRICT endpoint access mode, or a proxy rewriting Host).
// - domain mode, with --endpoint, --api-id and --stage: header mode, then host mode, for that API.
//   If the API answers, the domain is what is refused: HTTP_DOMAIN_FORBIDDEN (no domain name
//   access association, no base path mapping, or the domain's resource policy).
// The access mode is the API's, not a stage's: one request per other mode and address, on the
// first stage, decides for every stage. When host mode works each request invokes the backend
// and counts against usage plans, so the daemon reuses an answer while the findings stay alike.
// AWS does not document what a STRICT refusal or a missing association looks like on the wire;
// this decides on what the other names answer, never on the refusal's text.
import type { AccessMode, Finding, FindingCode, HttpFinding, ModeAnswer } from "../types.js";
import { finding } from "./classify.js";
import { FORBIDDEN_IN_EVERY_MODE } from "../hints.js";
import type { PreparedTarget } from "../config/prepare.js";
import type { PathResult, RequestSpec, Resolved } from "./check.js";

export type Send = (address: string, spec: RequestSpec) => Promise<PathResult>;

/** The refusals that start a comparison: the same address may take another name. */
const REFUSALS = new Set<FindingCode>(["HTTP_FORBIDDEN", "HTTP_MISDIRECTED"]);

/** Codes that mean "API Gateway answered, and it did not refuse the name". */
function answeredOtherwise(answer: ModeAnswer): boolean {
  if (answer.status === undefined || answer.code === undefined) return false;
  const noAnswer: FindingCode[] = ["HTTP_NOT_API_GATEWAY", "HTTP_TIMEOUT"];
  return !REFUSALS.has(answer.code) && !noAnswer.includes(answer.code);
}

export interface Comparison {
  /** The findings, with the compared ones replaced by new objects (never changed in place). */
  findings: Finding[];
  /** What the other modes answered, in a stable order. */
  answers: ModeAnswer[];
  /** Requests sent by this run to compare (0 when the daemon reused earlier answers). */
  requests: number;
}

/**
 * The daemon's memory of comparisons: per target and address, the answers last got while that
 * address's findings had the same codes. A long outage then costs one comparison, not one per
 * interval; a change in the findings (fixed, or failing otherwise) asks again.
 */
export class ComparisonCache {
  private readonly entries = new Map<string, { digest: string; answers: ModeAnswer[] }>();

  constructor(private readonly max = 1024) {}

  /** The answers kept for `key` while its digest is unchanged; a changed digest forgets them. */
  get(key: string, digest: string): ModeAnswer[] | undefined {
    const hit = this.entries.get(key);
    if (hit && hit.digest !== digest) this.entries.delete(key);
    return hit?.digest === digest ? hit.answers : undefined;
  }

  set(key: string, digest: string, answers: ModeAnswer[]): void {
    this.entries.delete(key);
    // Oldest first in a Map: drop it when full, a bound on what a long-lived daemon keeps.
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value ?? "");
    this.entries.set(key, { digest, answers });
  }

  get size(): number {
    return this.entries.size;
  }
}

export async function compareModes(
  target: PreparedTarget,
  findings: Finding[],
  addresses: string[],
  send: Send,
  cache?: ComparisonCache,
): Promise<Comparison> {
  const none = { findings, answers: [], requests: 0 };
  if (!target.compareModes || !target.apiNames) return none;
  if (target.mode !== "header" && target.mode !== "domain") return none;
  const stage = target.mode === "domain" ? target.stages[0] : target.requests[0]?.stage;
  if (stage === undefined) return none;
  let requests = 0;
  const counted: Send = (address, spec) => {
    requests++;
    return send(address, spec);
  };
  const replaced = new Map<Finding, Finding>();
  const results = await Promise.all(
    addresses.map(async (address) => {
      const key = cacheKey(target, address);
      const digest = digestOf(findings, address);
      const cached = cache?.get(key, digest);
      const refused = allRefused(target, findings, address);
      if (!refused) return [];
      const answers =
        cached ??
        (target.mode === "header"
          ? await askHeader(target, address, stage, counted)
          : await askDomain(target, address, stage, counted));
      if (!cached) cache?.set(key, digest, answers);
      const judge = target.mode === "header" ? judgeHeader : judgeDomain;
      for (const f of refused) replaced.set(f, judge(f, answers, cached !== undefined));
      return answers;
    }),
  );
  // Stable order for the report, whatever order the answers came back in.
  const order = (a: ModeAnswer) => `${a.address}|${a.stage}|${a.mode}`;
  const answers = results.flat().sort((a, b) => order(a).localeCompare(order(b)));
  return { findings: findings.map((f) => replaced.get(f) ?? f), answers, requests };
}

/** The target as the daemon knows it, and the address: what a cached answer was asked for. */
const cacheKey = (t: PreparedTarget, address: string): string =>
  [t.name, t.mode, t.resolveName, t.apiId ?? "", t.stages[0] ?? "", address].join("|");

/** The codes seen through an address, and where: the same digest means the same situation. */
function digestOf(findings: Finding[], address: string): string {
  return findings
    .filter((f) => f.address === address)
    .map((f) => `${f.layer}:${f.code}:${f.stage ?? ""}`)
    .sort()
    .join(",");
}

/** The address's http findings, when every stage (or base path) was refused; else null. */
function allRefused(
  target: PreparedTarget,
  findings: Finding[],
  address: string,
): HttpFinding[] | null {
  const http = findings.filter(
    (f): f is HttpFinding => f.layer === "http" && f.address === address,
  );
  const refused = http.filter((f) => REFUSALS.has(f.code));
  return refused.length === target.requests.length && http.length === refused.length
    ? refused
    : null;
}

type Names = NonNullable<PreparedTarget["apiNames"]>;

function spec(target: PreparedTarget, mode: AccessMode, stage: string, names: Names): RequestSpec {
  const path = `/${encodeURIComponent(stage)}${target.path}`;
  const headers = { ...target.commonHeaders };
  const servername =
    mode === "host" ? names.host : mode === "alias" ? names.alias : (target.endpoint ?? "");
  if (mode === "header") headers["x-apigw-api-id"] = target.apiId ?? "";
  const shownHeaders = Object.fromEntries(
    Object.keys(headers).map((k) => [k, target.shownHeaders[k] ?? headers[k] ?? ""]),
  );
  return { stage, path, servername, headers, shownHeaders };
}

async function ask(
  send: Send,
  address: string,
  stage: string,
  mode: AccessMode,
  s: RequestSpec,
): Promise<ModeAnswer> {
  const r = await send(address, s);
  const base = { address, stage, mode, request: `GET ${s.path} (Host ${s.servername})` };
  if (!r.http) return { ...base, error: r.reason };
  const { status, requestId } = r.http.evidence;
  return { ...base, status, code: r.http.code, requestId };
}

const describe = (a: ModeAnswer): string =>
  a.status !== undefined
    ? `${a.mode} mode -> ${a.status} ${a.code}${a.requestId ? ` (request id ${a.requestId})` : ""}`
    : `${a.mode} mode -> no answer (${a.error ?? "?"})`;

const reusedNote = (reused: boolean): string =>
  reused ? " (answers of an earlier run, reused while the findings are unchanged)" : "";

/** The answer the run itself got, in the target's own mode, as a ModeAnswer for the evidence. */
const asked = (f: HttpFinding, mode: AccessMode): ModeAnswer => ({
  address: f.address ?? "",
  stage: f.stage ?? "",
  mode,
  request: f.evidence.request,
  status: f.evidence.status,
  code: f.code,
  requestId: f.evidence.requestId,
});

/** Header mode: host and alias mode, on the first stage, at once. */
function askHeader(
  target: PreparedTarget,
  address: string,
  stage: string,
  send: Send,
): Promise<ModeAnswer[]> {
  const names = target.apiNames as Names;
  return Promise.all(
    (["host", "alias"] as const).map((mode) =>
      ask(send, address, stage, mode, spec(target, mode, stage, names)),
    ),
  );
}

function judgeHeader(f: HttpFinding, answers: ModeAnswer[], reused: boolean): HttpFinding {
  const host = answers.find((a) => a.mode === "host");
  const alias = answers.find((a) => a.mode === "alias");
  const evidence = { ...f.evidence, comparison: { header: asked(f, "header"), host, alias } };
  const seen = `${answers.map(describe).join(", ")}${answers[0] && answers[0].stage !== f.stage ? ` for stage ${answers[0].stage}` : ""}${reusedNote(reused)}`;
  const where = { address: f.address, stage: f.stage };
  if (answers.some(answeredOtherwise))
    return finding(
      "HTTP_MODE_REJECTED",
      `${f.message} in header mode, while ${seen} through the same address`,
      evidence,
      f.timings,
      where,
    );
  const refusedToo = { ...f, evidence, message: `${f.message}; ${seen}: not the access mode` };
  return f.code === "HTTP_FORBIDDEN"
    ? { ...refusedToo, hint: FORBIDDEN_IN_EVERY_MODE }
    : refusedToo;
}

/** Domain mode: the API's first stage in header mode, then host mode (STRICT refuses header). */
async function askDomain(
  target: PreparedTarget,
  address: string,
  stage: string,
  send: Send,
): Promise<ModeAnswer[]> {
  const names = target.apiNames as Names;
  const answers: ModeAnswer[] = [];
  for (const mode of ["header", "host"] as const) {
    const answer = await ask(send, address, stage, mode, spec(target, mode, stage, names));
    answers.push(answer);
    if (answeredOtherwise(answer)) break;
  }
  return answers;
}

function judgeDomain(f: HttpFinding, answers: ModeAnswer[], reused: boolean): HttpFinding {
  const evidence = {
    ...f.evidence,
    comparison: { domain: asked(f, "domain"), api: answers.map((a) => ({ ...a })) },
  };
  const works = answers.filter(answeredOtherwise);
  if (works.length === 0)
    return {
      ...f,
      evidence,
      message: `${f.message}; the API also answers ${answers.map(describe).join(", ")}${reusedNote(reused)}`,
    };
  return finding(
    "HTTP_DOMAIN_FORBIDDEN",
    `${f.message} through the custom domain, while the API answers ${works.map((a) => `${describe(a)} for stage ${a.stage}`).join(", ")} through the same address${reusedNote(reused)}`,
    evidence,
    f.timings,
    { address: f.address, stage: f.stage },
  );
}

/** DNS_DOMAIN_ELSEWHERE: the domain's answers that are not among the endpoint's. */
export function domainElsewhere(
  target: PreparedTarget,
  domainAddresses: string[],
  endpoint: Resolved,
): Finding | null {
  if (domainAddresses.length === 0 || endpoint.all.length === 0) return null;
  const elsewhere = domainAddresses.filter((a) => !endpoint.all.includes(a));
  if (elsewhere.length === 0) return null;
  const domain = target.domain ?? "";
  return finding(
    "DNS_DOMAIN_ELSEWHERE",
    `${domain} -> ${elsewhere.join(", ")}, not among ${target.endpoint} -> ${endpoint.all.join(", ")}`,
    {
      domain,
      domainAddresses,
      endpoint: target.endpoint,
      endpointAddresses: endpoint.all,
      elsewhere,
    },
    { dns: endpoint.dnsMs, total: endpoint.dnsMs },
  );
}
