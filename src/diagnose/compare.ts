// The tool's own comparison of access modes (DESIGN: access modes). When every stage answers
// Forbidden through an address, the same address is asked again under the API's other names:
// - header mode: host mode (SNI and Host = the private DNS name) and alias mode (the Route 53
//   alias). If either answers as API Gateway with anything but Forbidden, header mode is what is
//   refused: HTTP_MODE_REJECTED (STRICT endpoint access mode, or a proxy rewriting Host).
// - domain mode, with --endpoint, --api-id and --stage: header mode, then host mode, for that API.
//   If the API answers, the domain is what is refused: HTTP_DOMAIN_FORBIDDEN (no domain name
//   access association, no base path mapping, or the domain's resource policy).
// AWS does not document what a STRICT refusal or a missing association looks like on the wire;
// this decides on what the other names answer, never on the refusal's text.
import type { AccessMode, Finding, FindingCode, HttpFinding, ModeAnswer } from "../types.js";
import { finding } from "./classify.js";
import { FORBIDDEN_IN_EVERY_MODE } from "./hints.js";
import type { PreparedTarget } from "../config/prepare.js";
import type { PathResult, RequestSpec, Resolved } from "./check.js";

export type Send = (address: string, spec: RequestSpec) => Promise<PathResult>;

/** Codes that mean "API Gateway answered, and it was not Forbidden". */
function answeredOtherwise(answer: ModeAnswer): boolean {
  const noAnswer: (FindingCode | undefined)[] = [
    undefined,
    "HTTP_FORBIDDEN",
    "HTTP_NOT_API_GATEWAY",
    "HTTP_TIMEOUT",
  ];
  return answer.status !== undefined && !noAnswer.includes(answer.code);
}

export async function compareModes(
  target: PreparedTarget,
  findings: Finding[],
  addresses: string[],
  send: Send,
): Promise<ModeAnswer[]> {
  if (!target.compareModes || !target.apiNames) return [];
  if (target.mode !== "header" && target.mode !== "domain") return [];
  if (target.mode === "domain" && target.stages.length === 0) return [];
  const results = await Promise.all(
    addresses.map(async (address) => {
      const forbidden = allForbidden(target, findings, address);
      if (!forbidden) return [];
      return target.mode === "header"
        ? compareHeader(target, address, forbidden, send)
        : compareDomain(target, address, forbidden, send);
    }),
  );
  // Stable order for the report, whatever order the answers came back in.
  const order = (a: ModeAnswer) => `${a.address}|${a.stage}|${a.mode}`;
  return results.flat().sort((a, b) => order(a).localeCompare(order(b)));
}

/** The address's http findings, when every stage (or base path) answered Forbidden; else null. */
function allForbidden(
  target: PreparedTarget,
  findings: Finding[],
  address: string,
): HttpFinding[] | null {
  const http = findings.filter(
    (f): f is HttpFinding => f.layer === "http" && f.address === address,
  );
  const forbidden = http.filter((f) => f.code === "HTTP_FORBIDDEN");
  return forbidden.length === target.requests.length && http.length === forbidden.length
    ? forbidden
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
  label: string,
  mode: AccessMode,
  s: RequestSpec,
): Promise<ModeAnswer> {
  const r = await send(address, s);
  const base = { address, stage: label, mode, request: `GET ${s.path} (Host ${s.servername})` };
  if (!r.http) return { ...base, error: r.reason };
  const { status, requestId } = r.http.evidence;
  return { ...base, status, code: r.http.code, requestId };
}

const describe = (a: ModeAnswer): string =>
  a.status !== undefined
    ? `${a.mode} mode -> ${a.status} ${a.code}${a.requestId ? ` (request id ${a.requestId})` : ""}`
    : `${a.mode} mode -> no answer (${a.error ?? "?"})`;

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

async function compareHeader(
  target: PreparedTarget,
  address: string,
  forbidden: HttpFinding[],
  send: Send,
): Promise<ModeAnswer[]> {
  const names = target.apiNames as Names;
  const answers: ModeAnswer[] = [];
  await Promise.all(
    forbidden.map(async (f) => {
      const stage = f.stage ?? "";
      const [host, alias] = await Promise.all([
        ask(send, address, stage, "host", spec(target, "host", stage, names)),
        ask(send, address, stage, "alias", spec(target, "alias", stage, names)),
      ]);
      const others = [host, alias];
      answers.push(...others);
      const evidence = { ...f.evidence, comparison: { header: asked(f, "header"), host, alias } };
      if (others.some(answeredOtherwise)) {
        const replaced = finding(
          "HTTP_MODE_REJECTED",
          `${f.message} in header mode, while ${others.map(describe).join(", ")} through the same address`,
          evidence,
          f.timings,
          { address, stage },
        );
        Object.assign(f, replaced);
      } else {
        f.evidence = evidence;
        f.message = `${f.message}; ${others.map(describe).join(", ")}: not the access mode`;
        f.hint = FORBIDDEN_IN_EVERY_MODE;
      }
    }),
  );
  return answers;
}

async function compareDomain(
  target: PreparedTarget,
  address: string,
  forbidden: HttpFinding[],
  send: Send,
): Promise<ModeAnswer[]> {
  const names = target.apiNames as Names;
  const answers: ModeAnswer[] = [];
  // The API's stages, header mode first, then host mode (a STRICT API refuses header mode).
  for (const stage of target.stages) {
    for (const mode of ["header", "host"] as const) {
      const answer = await ask(send, address, stage, mode, spec(target, mode, stage, names));
      answers.push(answer);
      if (answeredOtherwise(answer)) break;
    }
  }
  const works = answers.filter(answeredOtherwise);
  for (const f of forbidden) {
    const evidence = {
      ...f.evidence,
      comparison: { domain: asked(f, "domain"), api: answers },
    };
    if (works.length === 0) {
      f.evidence = evidence;
      f.message = `${f.message}; the API also answers ${answers.map(describe).join(", ")}`;
      continue;
    }
    const replaced = finding(
      "HTTP_DOMAIN_FORBIDDEN",
      `${f.message} through the custom domain, while the API answers ${works.map((a) => `${describe(a)} for stage ${a.stage}`).join(", ")} through the same address`,
      evidence,
      f.timings,
      { address, stage: f.stage },
    );
    Object.assign(f, replaced);
  }
  return answers.map((a) => ({ ...a }));
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
