// The aws layer's judgement: what was read (a snapshot) against this run's addresses, their source
// addresses and the target. Pure functions of data; every rule a table-driven unit test.
import type { AccessMode, AwsCode, AwsEvidence, AwsFinding } from "../types.js";
import { AWS_HINTS } from "../hints.js";
import { cidrContains, prefixLength } from "./cidr.js";
import { evaluatePolicy, parsePolicy } from "./policy.js";
import type { AclEntry, AwsSnapshot, RouteTable, SecurityGroup, Subnet } from "./snapshot.js";

export interface AwsTarget {
  mode: AccessMode;
  vpceId?: string;
  apiId?: string;
  stages: string[];
  /** Appended to /<stage>: the request the policy is judged for. */
  path: string;
  domain?: string;
}

const PORT = 443;
/** The client's ports the answers go back to: the range AWS's ACL examples allow outbound. */
const EPHEMERAL = { from: 1024, to: 65535 };

const finding = (
  code: AwsCode,
  message: string,
  hint: string,
  evidence: AwsEvidence,
  where: { address?: string; stage?: string } = {},
): AwsFinding => ({
  layer: "aws",
  code,
  status: code === "AWS_OK" ? "pass" : code === "AWS_UNREADABLE" ? "warn" : "fail",
  ...where,
  timings: { total: 0 },
  message,
  hint,
  evidence,
});

/**
 * Every aws finding of one run: `sources` maps each probed address to this host's source
 * address toward it (undefined: unknown, and the network rules are then not judged).
 */
export function evaluateAws(
  snap: AwsSnapshot,
  target: AwsTarget,
  addresses: string[],
  sources: Map<string, string | undefined>,
): AwsFinding[] {
  const out: AwsFinding[] = [...unreadable(snap)];
  const checked: string[] = [];
  const notEvaluated: string[] = [];
  for (const address of addresses) {
    const source = sources.get(address);
    if (!source) {
      notEvaluated.push(`${address}: this host's source address toward it is not known`);
      continue;
    }
    out.push(...networkFindings(snap, address, source, checked, notEvaluated));
  }
  out.push(...endpointFindings(snap, target, checked));
  out.push(
    ...apiFindings(
      snap,
      target,
      [...sources.values()].find((s) => s !== undefined),
      checked,
      notEvaluated,
    ),
  );
  if (!out.some((f) => f.status === "fail") && (checked.length > 0 || notEvaluated.length > 0))
    out.push(
      finding("AWS_OK", "what was read from AWS agrees with the probes", "", {
        checked,
        ...(notEvaluated.length ? { notEvaluated: [...new Set(notEvaluated)] } : {}),
      }),
    );
  return out;
}

/** Denied or failed reads, one finding per distinct error (no credentials: one for all). */
function unreadable(snap: AwsSnapshot): AwsFinding[] {
  const byError = new Map<string, string[]>();
  for (const u of snap.unreadable)
    byError.set(u.error, [...(byError.get(u.error) ?? []), u.action]);
  return [...byError].map(([error, actions]) =>
    finding(
      "AWS_UNREADABLE",
      `could not read ${actions.join(", ")}: ${error}`,
      `${AWS_HINTS.AWS_UNREADABLE} Not read: ${actions.join(", ")}.`,
      { actions, error },
    ),
  );
}

/** The endpoint subnet whose CIDR holds the address. */
export function subnetOf(snap: AwsSnapshot, address: string): Subnet | undefined {
  const ids = new Set(snap.endpoint?.subnetIds ?? []);
  const subnets = snap.subnets ?? [];
  return (
    subnets.find((s) => ids.has(s.id) && s.cidrs.some((c) => cidrContains(c, address))) ??
    subnets.find((s) => s.cidrs.some((c) => cidrContains(c, address)))
  );
}

function networkFindings(
  snap: AwsSnapshot,
  address: string,
  source: string,
  checked: string[],
  notEvaluated: string[],
): AwsFinding[] {
  const out: AwsFinding[] = [];
  const sg = securityGroupVerdict(snap.groups ?? [], snap.endpoint?.groupIds ?? [], source);
  if (sg) {
    if (sg.allowedBy) checked.push(`${address}: ${sg.allowedBy} allows TCP 443 from ${source}`);
    else if (sg.references.length)
      notEvaluated.push(...sg.references.map((r) => `${address}: security group rule ${r}`));
    else out.push(sgFinding(snap, address, source, sg.rules));
  }
  const subnet = subnetOf(snap, address);
  if (!subnet) {
    if (snap.subnets) notEvaluated.push(`${address}: no endpoint subnet's CIDR holds it`);
    return out;
  }
  const where = { subnet: subnet.id, ...(subnet.az ? { az: subnet.az } : {}), source };
  const acl = (snap.acls ?? []).find((a) => a.subnetIds.includes(subnet.id));
  if (acl) {
    const blocked = aclVerdict(acl.entries, source);
    if (blocked) {
      const rule = `${acl.id} rule ${blocked.rule.rule === 32767 ? "*" : blocked.rule.rule} deny`;
      const what =
        blocked.direction === "in"
          ? `inbound TCP 443 from ${source}`
          : `outbound TCP ${blocked.ports} to ${source}`;
      out.push(
        finding(
          "AWS_NACL_BLOCKS",
          `${address} (${subnet.id}): network ACL ${acl.id} denies ${what} (rule ${blocked.rule.rule === 32767 ? "*" : blocked.rule.rule})`,
          `Network ACL ${acl.id} of subnet ${subnet.id} denies ${what} at rule ${blocked.rule.rule === 32767 ? "* (the default)" : blocked.rule.rule}: add an allow rule with a lower number for ${blocked.direction === "in" ? `TCP 443 inbound from the on-premises range` : `TCP 1024-65535 outbound to the on-premises range`} (ACLs are stateless).`,
          { resource: acl.id, ...where, rules: [rule] },
          { address },
        ),
      );
    } else checked.push(`${address}: ${acl.id} allows TCP 443 in and the ephemeral ports out`);
  }
  const table = routeTableOf(snap.routeTables ?? [], subnet.id);
  if (table) {
    const route = returnRoute(table, source);
    if (route.kind === "none" || route.kind === "blackhole") {
      const seen = route.kind === "blackhole" ? `a blackhole route ${route.text}` : "no route";
      out.push(
        finding(
          "AWS_NO_RETURN_ROUTE",
          `${address} (${subnet.id}${subnet.az ? `, ${subnet.az}` : ""}): route table ${table.id} has ${seen} for ${source}`,
          `Route table ${table.id} of subnet ${subnet.id}${subnet.az ? ` (${subnet.az})` : ""} has ${seen} back to ${source}: add a route for the on-premises prefix to the virtual private gateway or transit gateway (or enable route propagation from the virtual private gateway).`,
          { resource: table.id, ...where, rules: route.kind === "blackhole" ? [route.text] : [] },
          { address },
        ),
      );
    } else if (route.kind === "unknown") notEvaluated.push(`${address}: ${table.id} ${route.text}`);
    else checked.push(`${address}: ${table.id} routes ${source} via ${route.text}`);
  }
  return out;
}

function sgFinding(
  snap: AwsSnapshot,
  address: string,
  source: string,
  rules: string[],
): AwsFinding {
  const ids = snap.endpoint?.groupIds ?? [];
  const seen = rules.length ? `; its 443 rules: ${rules.join(", ")}` : "; no inbound rule for 443";
  return finding(
    "AWS_SG_BLOCKS_SOURCE",
    `${address}: no security group of ${snap.endpoint?.id ?? "the endpoint"} (${ids.join(", ")}) allows TCP 443 from ${source}`,
    `Security group ${ids.join(", ")} of ${snap.endpoint?.id ?? "the endpoint"} does not allow TCP 443 from ${source}${seen}: add an inbound rule for TCP 443 from the on-premises range holding ${source} to ${ids[0] ?? "the endpoint's security group"}.`,
    { resource: ids[0], resources: ids, source, rules },
    { address },
  );
}

export interface SgVerdict {
  /** `sg-1 rule tcp 443 10.0.0.0/8`: the first rule that allows the source. */
  allowedBy?: string;
  /** Every rule that opens 443, for the finding. */
  rules: string[];
  /** Rules that open 443 to a prefix list or another group: not evaluated. */
  references: string[];
}

/** Undefined when the endpoint's groups were not read. */
export function securityGroupVerdict(
  groups: SecurityGroup[],
  groupIds: string[],
  source: string,
): SgVerdict | undefined {
  const mine = groups.filter((g) => groupIds.includes(g.id));
  if (mine.length === 0) return undefined;
  const v: SgVerdict = { rules: [], references: [] };
  for (const g of mine)
    for (const r of g.inbound) {
      const tcp443 =
        r.protocol === "-1" ||
        ((r.protocol === "tcp" || r.protocol === "6") &&
          (r.from ?? 0) <= PORT &&
          PORT <= (r.to ?? 65535));
      if (!tcp443) continue;
      const proto = r.protocol === "-1" ? "all" : `tcp ${r.from}-${r.to}`;
      for (const c of r.cidrs) {
        v.rules.push(`${g.id} ${proto} ${c}`);
        if (!v.allowedBy && cidrContains(c, source)) v.allowedBy = `${g.id} (${proto} ${c})`;
      }
      for (const ref of r.references) v.references.push(`${g.id} ${proto} ${ref}`);
    }
  return v;
}

export interface AclBlock {
  direction: "in" | "out";
  rule: AclEntry;
  ports: string;
}

/**
 * Rules in rule-number order, the first that matches decides: TCP 443 inbound from the source,
 * and every ephemeral port outbound to it. Undefined when both are allowed.
 */
export function aclVerdict(entries: AclEntry[], source: string): AclBlock | undefined {
  const matching = (egress: boolean) =>
    entries
      .filter((e) => e.egress === egress && (e.protocol === "-1" || e.protocol === "6"))
      .filter((e) => cidrContains(e.cidr, source))
      .sort((a, b) => a.rule - b.rule);
  const covers = (e: AclEntry, from: number, to: number) =>
    e.protocol === "-1" || ((e.from ?? 0) <= from && to <= (e.to ?? 65535));
  const overlaps = (e: AclEntry, from: number, to: number) =>
    e.protocol === "-1" || ((e.from ?? 0) <= to && from <= (e.to ?? 65535));
  const inbound = matching(false).find((e) => covers(e, PORT, PORT));
  if (!inbound || inbound.action === "deny")
    return { direction: "in", rule: inbound ?? DEFAULT_DENY, ports: "443" };
  // Outbound: walk the ranges still undecided; a deny that takes any of them is a block.
  let open: [number, number][] = [[EPHEMERAL.from, EPHEMERAL.to]];
  for (const e of matching(true)) {
    if (open.length === 0) break;
    const hit = open.filter(([f, t]) => overlaps(e, f, t));
    if (hit.length === 0) continue;
    if (e.action === "deny") {
      const [f, t] = hit[0]!;
      const lo = e.protocol === "-1" ? f : Math.max(f, e.from ?? 0);
      const hi = e.protocol === "-1" ? t : Math.min(t, e.to ?? 65535);
      return { direction: "out", rule: e, ports: lo === hi ? `${lo}` : `${lo}-${hi}` };
    }
    open = open.flatMap(([f, t]) => subtract(f, t, e));
  }
  if (open.length) {
    const [f, t] = open[0]!;
    return { direction: "out", rule: DEFAULT_DENY, ports: f === t ? `${f}` : `${f}-${t}` };
  }
  return undefined;
}

const DEFAULT_DENY: AclEntry = {
  rule: 32767,
  egress: false,
  protocol: "-1",
  action: "deny",
  cidr: "0.0.0.0/0",
};

function subtract(f: number, t: number, e: AclEntry): [number, number][] {
  if (e.protocol === "-1") return [];
  const ef = e.from ?? 0;
  const et = e.to ?? 65535;
  const out: [number, number][] = [];
  if (f < ef) out.push([f, Math.min(t, ef - 1)]);
  if (t > et) out.push([Math.max(f, et + 1), t]);
  return out;
}

/** The subnet's explicitly associated table, else the VPC's main table. */
export function routeTableOf(tables: RouteTable[], subnetId: string): RouteTable | undefined {
  return tables.find((t) => t.subnetIds.includes(subnetId)) ?? tables.find((t) => t.main);
}

export type ReturnRoute =
  | { kind: "route"; text: string }
  | { kind: "blackhole"; text: string }
  | { kind: "none" }
  | { kind: "unknown"; text: string };

/** The most specific route covering the source; a blackhole counts as none. */
export function returnRoute(table: RouteTable, source: string): ReturnRoute {
  const covering = table.routes
    .filter((r) => r.destination !== undefined && cidrContains(r.destination, source))
    .sort((a, b) => prefixLength(b.destination!) - prefixLength(a.destination!));
  const best = covering[0];
  if (best) {
    const text = `${best.destination} -> ${best.target}`;
    return best.blackhole ? { kind: "blackhole", text } : { kind: "route", text };
  }
  const lists = table.routes.filter((r) => r.prefixList && !r.blackhole);
  if (lists.length)
    return {
      kind: "unknown",
      text: `routes to prefix list ${lists.map((r) => r.prefixList).join(", ")}: not evaluated`,
    };
  return { kind: "none" };
}

function endpointFindings(snap: AwsSnapshot, target: AwsTarget, checked: string[]): AwsFinding[] {
  const ep = snap.endpoint;
  if (!ep) return [];
  const state = ep.state?.toLowerCase();
  if (state && state !== "available")
    return [
      finding(
        "AWS_ENDPOINT_STATE",
        `${ep.id} is ${ep.state}, not available`,
        `Interface endpoint ${ep.id} is ${ep.state}: it carries no traffic until it is available (a Rejected or Failed endpoint must be recreated or accepted).`,
        { resource: ep.id },
      ),
    ];
  if (target.mode === "host" && ep.privateDnsEnabled === false)
    return [
      finding(
        "AWS_ENDPOINT_STATE",
        `${ep.id} has private DNS off while mode host uses the API's private DNS name`,
        `Interface endpoint ${ep.id} has private DNS names disabled: {apiId}.execute-api.{region}.amazonaws.com does not resolve to it. Enable private DNS names on ${ep.id}, or use the Route 53 alias (mode alias) or the endpoint name (mode header).`,
        { resource: ep.id },
      ),
    ];
  checked.push(
    `${ep.id} is ${ep.state ?? "readable"}${ep.privateDnsEnabled ? ", private DNS on" : ""}`,
  );
  return [];
}

function apiFindings(
  snap: AwsSnapshot,
  target: AwsTarget,
  sourceIp: string | undefined,
  checked: string[],
  notEvaluated: string[],
): AwsFinding[] {
  const out: AwsFinding[] = [];
  const api = snap.api;
  const id = target.apiId;
  if (api && id) {
    if (!api.endpointTypes.includes("PRIVATE"))
      out.push(
        finding(
          "AWS_API_NOT_PRIVATE",
          `API ${id} has endpoint type ${api.endpointTypes.join(", ") || "none"}, not PRIVATE`,
          `API ${id} is ${api.endpointTypes.join(", ") || "of no endpoint type"}, not PRIVATE: an execute-api interface endpoint reaches private APIs only. Change API ${id}'s endpoint type to PRIVATE (with a resource policy for ${target.vpceId ?? "the endpoint"}) and redeploy, or call it over its public name.`,
          { resource: id },
        ),
      );
    if (api.disableExecuteApiEndpoint && target.mode !== "domain")
      out.push(
        finding(
          "AWS_DEFAULT_ENDPOINT_DISABLED",
          `API ${id} has disableExecuteApiEndpoint on while mode ${target.mode} uses the default endpoint`,
          `API ${id} has disableExecuteApiEndpoint on: only its custom domain names answer. ${AWS_HINTS.AWS_DEFAULT_ENDPOINT_DISABLED}`,
          { resource: id },
        ),
      );
    if (api.endpointAccessMode === "STRICT" && target.mode === "header")
      out.push(
        finding(
          "AWS_ACCESS_MODE_STRICT",
          `API ${id} is in STRICT endpoint access mode (${api.securityPolicy ?? "enhanced security policy"}) while the mode is header`,
          `API ${id}: ${AWS_HINTS.AWS_ACCESS_MODE_STRICT}`,
          {
            resource: id,
            rules: [`endpointAccessMode STRICT`, api.securityPolicy ?? ""].filter(Boolean),
          },
        ),
      );
    out.push(...policyFindings(api.policy, snap, target, id, sourceIp, checked, notEvaluated));
  }
  if (snap.stages && id) {
    for (const stage of target.stages) {
      const s = snap.stages.find((x) => x.name === stage);
      if (s?.deploymentId) continue;
      out.push(
        finding(
          "AWS_STAGE_MISSING",
          s ? `stage ${stage} of API ${id} has no deployment` : `API ${id} has no stage ${stage}`,
          s
            ? `Stage ${stage} of API ${id} has no deployment: deploy the API to ${stage}.`
            : `API ${id} has no stage ${stage} (it has: ${snap.stages.map((x) => x.name).join(", ") || "none"}): create a deployment for ${stage}, or call a stage it has.`,
          { resource: `${id}/${stage}`, resources: snap.stages.map((x) => x.name) },
          { stage },
        ),
      );
    }
  }
  if (target.mode === "domain" && target.domain && target.vpceId && snap.domainAssociations) {
    const assoc = snap.domainAssociations.find(
      (a) =>
        (a.source === target.vpceId || a.source.endsWith(`/${target.vpceId}`)) &&
        a.domainNameArn.includes(`/domainnames/${target.domain}+`),
    );
    if (assoc) checked.push(`${target.domain} has an access association with ${target.vpceId}`);
    else
      out.push(
        finding(
          "AWS_NO_DOMAIN_ASSOCIATION",
          `no domain name access association from ${target.vpceId} to ${target.domain}`,
          `Custom domain ${target.domain} has no domain name access association with ${target.vpceId}: create one from ${target.vpceId} to the domain name (ready after about 15 minutes).`,
          {
            resource: target.domain,
            resources: snap.domainAssociations.map((a) => a.domainNameArn),
          },
        ),
      );
  }
  return out;
}

function policyFindings(
  policy: string | undefined,
  snap: AwsSnapshot,
  target: AwsTarget,
  id: string,
  sourceIp: string | undefined,
  checked: string[],
  notEvaluated: string[],
): AwsFinding[] {
  if (!target.vpceId || target.mode === "domain") return [];
  const statements = policy ? parsePolicy(policy) : undefined;
  if (!policy)
    return [
      finding(
        "AWS_POLICY_EXCLUDES_ENDPOINT",
        `API ${id} has no resource policy: a private API allows no caller without one`,
        `API ${id} has no resource policy: add one that allows execute-api:Invoke with aws:SourceVpce = ${target.vpceId}, then deploy the API again.`,
        { resource: id },
      ),
    ];
  if (!statements) {
    notEvaluated.push(`API ${id}: the resource policy does not parse`);
    return [];
  }
  const out: AwsFinding[] = [];
  for (const stage of target.stages) {
    const r = evaluatePolicy(statements, {
      apiId: id,
      region: snap.region,
      stage,
      method: "GET",
      path: target.path,
      vpceId: target.vpceId,
      vpcId: snap.endpoint?.vpcId,
      sourceIp,
    });
    notEvaluated.push(...r.notEvaluated.map((n) => `API ${id} policy: ${n}`));
    if (r.result === "allowed")
      checked.push(
        `API ${id} policy allows ${target.vpceId} (${r.decidedBy.join(", ")}) for ${stage}`,
      );
    if (r.result !== "denied" && r.result !== "none") continue;
    const why =
      r.result === "denied"
        ? `denies ${target.vpceId} (${r.decidedBy.join(", ")})`
        : `allows execute-api:Invoke to none of ${target.vpceId}`;
    out.push(
      finding(
        "AWS_POLICY_EXCLUDES_ENDPOINT",
        `the resource policy of API ${id} ${why} for GET /${stage}${target.path}`,
        `The resource policy of API ${id} ${why}: allow execute-api:Invoke for aws:SourceVpce ${target.vpceId}${r.result === "denied" ? " and narrow the Deny" : ""}, then deploy the API again (a policy change takes effect at the next deployment).`,
        {
          resource: id,
          rules: r.decidedBy,
          ...(r.notEvaluated.length ? { notEvaluated: r.notEvaluated } : {}),
        },
        { stage },
      ),
    );
  }
  return out;
}
