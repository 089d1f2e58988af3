// The reader: read-only calls with the caller's own credentials (the SDK's default chain, or a
// profile), each bounded by the run's timeout, each failure kept as the action's name. Loaded
// only when the aws layer is on: this module is the only one that imports the AWS SDK.
import type {
  DescribeNetworkAclsCommandOutput,
  DescribeRouteTablesCommandOutput,
  DescribeSecurityGroupsCommandOutput,
  DescribeSubnetsCommandOutput,
  DescribeVpcEndpointsCommandOutput,
} from "@aws-sdk/client-ec2";
import type {
  GetDomainNameAccessAssociationsCommandOutput,
  GetStagesCommandOutput,
  RestApi as SdkRestApi,
} from "@aws-sdk/client-api-gateway";
import { exportsOf } from "../interop.js";
import type { AwsSnapshot, Endpoint, Unreadable } from "./snapshot.js";

export interface ReadRequest {
  region?: string;
  profile?: string;
  vpceId?: string;
  apiId?: string;
  /** Domain mode: read the access associations too. */
  domain?: boolean;
  timeoutMs: number;
  signal: AbortSignal;
}

type Ec2 = typeof import("@aws-sdk/client-ec2");
type Apigw = typeof import("@aws-sdk/client-api-gateway");

let sdk: Promise<{ ec2: Ec2; apigw: Apigw }> | undefined;

/**
 * The SDK, once per process. On Node 20 it warns on stderr about its Node support when a client is
 * made; AWS documents AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true to silence it, and
 * stderr carries only this tool's own lines (a value the user set is kept).
 */
export function loadSdk(): Promise<{ ec2: Ec2; apigw: Apigw }> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  // A dynamic import: the bundle keeps the SDK in chunks of its own, loaded only with --aws.
  sdk ??= Promise.all([import("@aws-sdk/client-ec2"), import("@aws-sdk/client-api-gateway")]).then(
    ([ec2, apigw]) => ({ ec2: exportsOf(ec2), apigw: exportsOf(apigw) }),
  );
  return sdk;
}

/** Every read the target needs; a failed one is listed by its action and the rest goes on. */
export async function readAws(req: ReadRequest): Promise<AwsSnapshot> {
  const { ec2, apigw } = await loadSdk();
  const config = {
    ...(req.region ? { region: req.region } : {}),
    ...(req.profile ? { profile: req.profile } : {}),
    maxAttempts: 2,
    requestHandler: { connectionTimeout: req.timeoutMs, requestTimeout: req.timeoutMs },
  };
  const ec2c = new ec2.EC2Client(config);
  const api = new apigw.APIGatewayClient(config);
  const unreadable: Unreadable[] = [];
  const call = <T>(action: string, send: (signal: AbortSignal) => Promise<T>) =>
    bounded(send, req).catch((err: unknown) => {
      unreadable.push({ action, error: describeError(err) });
      return undefined;
    });
  const snap: AwsSnapshot = { region: req.region ?? (await regionOf(ec2c)), unreadable };
  try {
    const apiId = req.apiId;
    const [endpoints, restApi, stages, associations] = await Promise.all([
      req.vpceId
        ? call("ec2:DescribeVpcEndpoints", (abortSignal) =>
            ec2c.send(new ec2.DescribeVpcEndpointsCommand({ VpcEndpointIds: [req.vpceId!] }), {
              abortSignal,
            }),
          )
        : undefined,
      apiId
        ? call(`apigateway:GET /restapis/${apiId}`, (abortSignal) =>
            api.send(new apigw.GetRestApiCommand({ restApiId: apiId }), { abortSignal }),
          )
        : undefined,
      apiId
        ? call(`apigateway:GET /restapis/${apiId}/stages`, (abortSignal) =>
            api.send(new apigw.GetStagesCommand({ restApiId: apiId }), { abortSignal }),
          )
        : undefined,
      req.domain
        ? call("apigateway:GET /domainnameaccessassociations", (abortSignal) =>
            api.send(new apigw.GetDomainNameAccessAssociationsCommand({ resourceOwner: "SELF" }), {
              abortSignal,
            }),
          )
        : undefined,
    ]);
    snap.endpoint = endpoint(endpoints);
    if (restApi) snap.api = restApiOf(restApi, apiId!);
    if (stages) snap.stages = stagesOf(stages);
    if (associations) snap.domainAssociations = associationsOf(associations);
    const ep = snap.endpoint;
    if (ep) {
      const subnetFilter = [{ Name: "association.subnet-id", Values: ep.subnetIds }];
      const [groups, subnets, acls, tables] = await Promise.all([
        ep.groupIds.length
          ? call("ec2:DescribeSecurityGroups", (abortSignal) =>
              ec2c.send(new ec2.DescribeSecurityGroupsCommand({ GroupIds: ep.groupIds }), {
                abortSignal,
              }),
            )
          : undefined,
        ep.subnetIds.length
          ? call("ec2:DescribeSubnets", (abortSignal) =>
              ec2c.send(new ec2.DescribeSubnetsCommand({ SubnetIds: ep.subnetIds }), {
                abortSignal,
              }),
            )
          : undefined,
        ep.subnetIds.length
          ? call("ec2:DescribeNetworkAcls", (abortSignal) =>
              ec2c.send(new ec2.DescribeNetworkAclsCommand({ Filters: subnetFilter }), {
                abortSignal,
              }),
            )
          : undefined,
        ep.vpcId
          ? call("ec2:DescribeRouteTables", (abortSignal) =>
              ec2c.send(
                new ec2.DescribeRouteTablesCommand({
                  Filters: [{ Name: "vpc-id", Values: [ep.vpcId!] }],
                }),
                { abortSignal },
              ),
            )
          : undefined,
      ]);
      if (groups) snap.groups = groupsOf(groups);
      if (subnets) snap.subnets = subnetsOf(subnets);
      if (acls) snap.acls = aclsOf(acls);
      if (tables) snap.routeTables = tablesOf(tables);
    }
  } finally {
    ec2c.destroy();
    api.destroy();
  }
  return snap;
}

async function regionOf(client: { config: { region: () => Promise<string> } }): Promise<string> {
  try {
    return await client.config.region();
  } catch {
    return "";
  }
}

/**
 * One call within the run's timeout, whatever the SDK does meanwhile (resolving credentials,
 * retrying): the call's signal is aborted and the promise rejects at the deadline.
 */
async function bounded<T>(
  send: (signal: AbortSignal) => Promise<T>,
  req: { timeoutMs: number; signal: AbortSignal },
): Promise<T> {
  const signal = AbortSignal.any([req.signal, AbortSignal.timeout(req.timeoutMs)]);
  // Whoever notices the abort first (the SDK or this), the error says which it was.
  const why = () =>
    req.signal.aborted
      ? Object.assign(new Error("cancelled"), { name: "AbortError" })
      : Object.assign(new Error(`no answer within ${req.timeoutMs} ms`), { name: "TimeoutError" });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(why());
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([send(signal), aborted]);
  } catch (err) {
    throw signal.aborted ? why() : err;
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

/** One line, no secrets: the error's name and the start of its message. */
export function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string; Code?: string };
  const name = e?.Code ?? e?.name ?? "Error";
  const message = String(e?.message ?? err)
    .replace(/\s+/g, " ")
    .slice(0, 200);
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message))
    return `no credentials (${message})`;
  return message && message !== name ? `${name}: ${message}` : name;
}

function endpoint(out: DescribeVpcEndpointsCommandOutput | undefined): Endpoint | undefined {
  const e = out?.VpcEndpoints?.[0];
  if (!e?.VpcEndpointId) return undefined;
  return {
    id: e.VpcEndpointId,
    state: e.State,
    privateDnsEnabled: e.PrivateDnsEnabled,
    vpcId: e.VpcId,
    subnetIds: e.SubnetIds ?? [],
    groupIds: (e.Groups ?? []).map((g) => g.GroupId).filter((g): g is string => Boolean(g)),
  };
}

const strings = (values: (string | undefined)[]): string[] =>
  values.filter((v): v is string => typeof v === "string" && v.length > 0);

function groupsOf(out: DescribeSecurityGroupsCommandOutput): AwsSnapshot["groups"] {
  return (out.SecurityGroups ?? []).map((g) => ({
    id: g.GroupId ?? "",
    name: g.GroupName,
    inbound: (g.IpPermissions ?? []).map((p) => ({
      protocol: String(p.IpProtocol ?? "-1"),
      from: p.FromPort,
      to: p.ToPort,
      cidrs: strings([
        ...(p.IpRanges ?? []).map((r) => r.CidrIp),
        ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6),
      ]),
      references: strings([
        ...(p.PrefixListIds ?? []).map((r) => r.PrefixListId),
        ...(p.UserIdGroupPairs ?? []).map((r) => r.GroupId),
      ]),
    })),
  }));
}

function subnetsOf(out: DescribeSubnetsCommandOutput): AwsSnapshot["subnets"] {
  return (out.Subnets ?? []).map((s) => ({
    id: s.SubnetId ?? "",
    cidrs: strings([
      s.CidrBlock,
      ...(s.Ipv6CidrBlockAssociationSet ?? []).map((a) => a.Ipv6CidrBlock),
    ]),
    az: s.AvailabilityZone,
  }));
}

function aclsOf(out: DescribeNetworkAclsCommandOutput): AwsSnapshot["acls"] {
  return (out.NetworkAcls ?? []).map((a) => ({
    id: a.NetworkAclId ?? "",
    isDefault: a.IsDefault ?? false,
    subnetIds: strings((a.Associations ?? []).map((x) => x.SubnetId)),
    entries: (a.Entries ?? []).map((e) => ({
      rule: e.RuleNumber ?? 32767,
      egress: e.Egress ?? false,
      protocol: String(e.Protocol ?? "-1"),
      action: e.RuleAction === "allow" ? ("allow" as const) : ("deny" as const),
      cidr: e.CidrBlock ?? e.Ipv6CidrBlock ?? "",
      from: e.PortRange?.From,
      to: e.PortRange?.To,
    })),
  }));
}

function tablesOf(out: DescribeRouteTablesCommandOutput): AwsSnapshot["routeTables"] {
  return (out.RouteTables ?? []).map((t) => ({
    id: t.RouteTableId ?? "",
    main: (t.Associations ?? []).some((a) => a.Main),
    subnetIds: strings((t.Associations ?? []).map((a) => a.SubnetId)),
    routes: (t.Routes ?? []).map((r) => ({
      destination: r.DestinationCidrBlock ?? r.DestinationIpv6CidrBlock,
      prefixList: r.DestinationPrefixListId,
      target:
        r.GatewayId ??
        r.TransitGatewayId ??
        r.NatGatewayId ??
        r.NetworkInterfaceId ??
        r.VpcPeeringConnectionId ??
        r.InstanceId ??
        "?",
      blackhole: r.State === "blackhole",
    })),
  }));
}

function restApiOf(a: SdkRestApi, id: string): AwsSnapshot["api"] {
  return {
    id: a.id ?? id,
    endpointTypes: a.endpointConfiguration?.types ?? [],
    policy: a.policy,
    disableExecuteApiEndpoint: a.disableExecuteApiEndpoint,
    endpointAccessMode: a.endpointAccessMode,
    securityPolicy: a.securityPolicy,
  };
}

function stagesOf(out: GetStagesCommandOutput): AwsSnapshot["stages"] {
  return (out.item ?? []).map((s) => ({ name: s.stageName ?? "", deploymentId: s.deploymentId }));
}

function associationsOf(
  out: GetDomainNameAccessAssociationsCommandOutput,
): AwsSnapshot["domainAssociations"] {
  return (out.items ?? []).map((a) => ({
    domainNameArn: a.domainNameArn ?? "",
    source: a.accessAssociationSource ?? "",
  }));
}
