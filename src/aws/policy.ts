// An API's resource policy judged for one request through one endpoint: only the conditions used
// with private APIs (aws:SourceVpce, aws:SourceVpc, aws:VpcSourceIp) are evaluated; anything else
// (another key, operator, principal or NotAction) makes a statement unknown and is listed, never
// guessed. Three-valued: true, false, or undefined (unknown).
import { cidrContains } from "./cidr.js";

export interface PolicyRequest {
  apiId: string;
  region: string;
  stage: string;
  /** Method and path of the request: `GET`, `/prod/`... without the stage. */
  method: string;
  path: string;
  vpceId: string;
  vpcId?: string;
  /** This host's address, as the VPC sees it (no NAT on the way over Direct Connect). */
  sourceIp?: string;
}

export interface PolicyOutcome {
  /** allowed: an Allow applies and no Deny; denied: a Deny applies; none: no Allow applies. */
  result: "allowed" | "denied" | "none" | "unknown";
  /** The statements that decided (`Sid` or `statement 2`). */
  decidedBy: string[];
  notEvaluated: string[];
}

type Tri = boolean | undefined;
interface Statement {
  Sid?: unknown;
  Effect?: unknown;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
}

/** API Gateway returns the policy JSON with its quotes escaped (`{\"Version\":...}`). */
export function parsePolicy(text: string): Statement[] | undefined {
  for (const candidate of [text, text.replace(/\\"/g, '"').replace(/\\\\/g, "\\")]) {
    try {
      const doc = JSON.parse(candidate) as { Statement?: unknown };
      const st = doc.Statement;
      if (Array.isArray(st)) return st as Statement[];
      if (st && typeof st === "object") return [st as Statement];
    } catch {
      // the other spelling
    }
  }
  return undefined;
}

export function evaluatePolicy(statements: Statement[], req: PolicyRequest): PolicyOutcome {
  const notEvaluated: string[] = [];
  const judged = statements.map((s, i) => {
    const name = typeof s.Sid === "string" && s.Sid ? s.Sid : `statement ${i + 1}`;
    const skip = (why: string) => {
      notEvaluated.push(`${name}: ${why}`);
      return undefined;
    };
    const applies = and([
      s.NotPrincipal !== undefined
        ? skip("NotPrincipal")
        : principalIsAnyone(s.Principal)
          ? true
          : skip(`Principal ${JSON.stringify(s.Principal)} (depends on the caller)`),
      s.NotAction !== undefined ? skip("NotAction") : anyGlob(s.Action, "execute-api:invoke", true),
      s.NotResource !== undefined ? skip("NotResource") : resourceMatches(s.Resource, req),
      conditions(s.Condition, req, (why) => skip(why)),
    ]);
    return { name, effect: s.Effect === "Deny" ? "Deny" : "Allow", applies };
  });
  const denies = judged.filter((j) => j.effect === "Deny");
  const allows = judged.filter((j) => j.effect === "Allow");
  const names = (list: typeof judged) => list.map((j) => j.name);
  const denied = denies.filter((j) => j.applies === true);
  if (denied.length) return { result: "denied", decidedBy: names(denied), notEvaluated };
  const allowed = allows.filter((j) => j.applies === true);
  const unknown = judged.filter((j) => j.applies === undefined);
  if (allowed.length && !denies.some((j) => j.applies === undefined))
    return { result: "allowed", decidedBy: names(allowed), notEvaluated };
  if (unknown.length) return { result: "unknown", decidedBy: names(unknown), notEvaluated };
  return { result: "none", decidedBy: [], notEvaluated };
}

function and(values: Tri[]): Tri {
  if (values.some((v) => v === false)) return false;
  return values.every((v) => v === true) ? true : undefined;
}

function list(v: unknown): string[] {
  if (typeof v === "string") return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function principalIsAnyone(p: unknown): boolean {
  if (p === "*") return true;
  if (p && typeof p === "object") {
    const aws = (p as { AWS?: unknown }).AWS;
    return list(aws).includes("*") && Object.keys(p).length === 1;
  }
  return false;
}

/** IAM wildcards: `*` any run of characters, `?` one. */
function glob(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, ignoreCase ? "is" : "s").test(value);
}

function anyGlob(v: unknown, value: string, ignoreCase = false): boolean {
  return list(v).some((p) => glob(p, value, ignoreCase));
}

/**
 * `execute-api:/prod/GET/*` is the API's own shorthand; an ARN's resource part is
 * `{apiId}/{stage}/{method}{path}`. The account is not known here: any account matches.
 */
function resourceMatches(resource: unknown, req: PolicyRequest): boolean {
  const wanted = `${req.apiId}/${req.stage}/${req.method}${req.path}`;
  return list(resource).some((r) => {
    if (r === "*") return true;
    if (r.startsWith("execute-api:/")) return glob(`${req.apiId}/${r.slice(13)}`, wanted);
    const parts = r.split(":");
    if (parts.length < 6 || parts[2] !== "execute-api") return false;
    return glob(parts[3] ?? "", req.region) && glob(parts.slice(5).join(":"), wanted);
  });
}

const STRING_OPS = new Set(["stringequals", "stringlike", "stringequalsignorecase"]);
const STRING_NOT_OPS = new Set(["stringnotequals", "stringnotlike", "stringnotequalsignorecase"]);

function conditions(condition: unknown, req: PolicyRequest, skip: (why: string) => undefined): Tri {
  if (condition === undefined) return true;
  if (!condition || typeof condition !== "object") return skip("a malformed Condition");
  const results: Tri[] = [];
  for (const [rawOp, block] of Object.entries(condition as Record<string, unknown>)) {
    // `IfExists`: these keys are always present for a request through an interface endpoint.
    const op = rawOp
      .toLowerCase()
      .replace(/^foranyvalue:|^forallvalues:/, "")
      .replace(/ifexists$/, "");
    if (!block || typeof block !== "object") {
      results.push(skip(`${rawOp}: malformed`));
      continue;
    }
    for (const [key, values] of Object.entries(block as Record<string, unknown>))
      results.push(condition1(op, rawOp, key, list(values), req, skip));
  }
  return and(results);
}

function condition1(
  op: string,
  rawOp: string,
  key: string,
  values: string[],
  req: PolicyRequest,
  skip: (why: string) => undefined,
): Tri {
  const k = key.toLowerCase();
  const actual =
    k === "aws:sourcevpce" ? req.vpceId : k === "aws:sourcevpc" ? req.vpcId : undefined;
  if (k === "aws:sourcevpce" || k === "aws:sourcevpc") {
    if (actual === undefined) return skip(`${rawOp} ${key}: the endpoint's VPC was not read`);
    const like = op.includes("like");
    const ic = op.includes("ignorecase");
    const hit = values.some((v) =>
      like ? glob(v, actual, ic) : ic ? v.toLowerCase() === actual.toLowerCase() : v === actual,
    );
    if (STRING_OPS.has(op)) return hit;
    if (STRING_NOT_OPS.has(op)) return !hit;
  } else if (k === "aws:vpcsourceip" && (op === "ipaddress" || op === "notipaddress")) {
    if (!req.sourceIp) return skip(`${rawOp} ${key}: this host's source address is not known`);
    const hit = values.some((v) =>
      cidrContains(v.includes("/") ? v : `${v}/${v.includes(":") ? 128 : 32}`, req.sourceIp!),
    );
    return op === "ipaddress" ? hit : !hit;
  }
  return skip(`${rawOp} ${key}`);
}
