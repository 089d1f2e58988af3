import { describe, expect, it } from "vitest";
import {
  aclVerdict,
  evaluateAws,
  returnRoute,
  routeTableOf,
  securityGroupVerdict,
  subnetOf,
  type AwsTarget,
} from "../../src/aws/evaluate.js";
import { evaluatePolicy, parsePolicy } from "../../src/aws/policy.js";
import type { AclEntry, AwsSnapshot, RouteTable } from "../../src/aws/snapshot.js";

const SG = (cidrs: string[], from = 443, to = 443, protocol = "tcp") => ({
  id: "sg-0a1",
  inbound: [{ protocol, from, to, cidrs, references: [] }],
});

describe("security groups against the source address", () => {
  it.each([
    ["allows a source inside a 443 rule's range", SG(["10.250.0.0/16"]), "10.250.0.5", true],
    ["blocks a source outside every range", SG(["10.1.0.0/16"]), "10.250.0.5", false],
    ["counts a port range holding 443", SG(["10.250.0.0/16"], 400, 500), "10.250.0.5", true],
    ["ignores a rule for another port", SG(["0.0.0.0/0"], 80, 80), "10.250.0.5", false],
    ["counts an all-protocols rule", SG(["10.250.0.5/32"], 0, 0, "-1"), "10.250.0.5", true],
    ["judges IPv6 sources by IPv6 ranges", SG(["10.0.0.0/8"]), "fd00::5", false],
    ["allows IPv6 in an IPv6 range", SG(["fd00::/8"]), "fd00::5", true],
  ])("%s", (_name, group, source, allowed) => {
    const v = securityGroupVerdict([group], ["sg-0a1"], source);
    expect(v?.allowedBy !== undefined).toBe(allowed);
  });

  it("lists a prefix-list rule as not evaluated instead of guessing", () => {
    const group = {
      id: "sg-0a1",
      inbound: [{ protocol: "tcp", from: 443, to: 443, cidrs: [], references: ["pl-123"] }],
    };
    expect(securityGroupVerdict([group], ["sg-0a1"], "10.250.0.5")).toEqual({
      rules: [],
      references: ["sg-0a1 tcp 443-443 pl-123"],
    });
  });

  it("says nothing when the endpoint's groups were not read", () => {
    expect(securityGroupVerdict([], ["sg-0a1"], "10.250.0.5")).toBeUndefined();
  });
});

const E = (
  rule: number,
  egress: boolean,
  action: "allow" | "deny",
  cidr: string,
  from?: number,
  to?: number,
  protocol = from === undefined ? "-1" : "6",
): AclEntry => ({ rule, egress, action, cidr, from, to, protocol });
const DEFAULTS = [E(32767, false, "deny", "0.0.0.0/0"), E(32767, true, "deny", "0.0.0.0/0")];

describe("network ACLs in rule-number order", () => {
  it.each<[string, AclEntry[], { direction: string; rule: number; ports: string } | undefined]>([
    [
      "allows the default ACL (all in, all out)",
      [E(100, false, "allow", "0.0.0.0/0"), E(100, true, "allow", "0.0.0.0/0"), ...DEFAULTS],
      undefined,
    ],
    [
      "blocks 443 in when a lower deny comes first",
      [
        E(90, false, "deny", "10.250.0.0/16", 443, 443),
        E(100, false, "allow", "0.0.0.0/0"),
        E(100, true, "allow", "0.0.0.0/0"),
        ...DEFAULTS,
      ],
      { direction: "in", rule: 90, ports: "443" },
    ],
    [
      "lets a lower allow win over a later deny",
      [
        E(80, false, "allow", "10.250.0.0/16", 443, 443),
        E(90, false, "deny", "0.0.0.0/0"),
        E(100, true, "allow", "0.0.0.0/0", 1024, 65535),
        ...DEFAULTS,
      ],
      undefined,
    ],
    [
      "blocks when only the default rule matches inbound",
      [E(100, true, "allow", "0.0.0.0/0"), ...DEFAULTS],
      { direction: "in", rule: 32767, ports: "443" },
    ],
    [
      "blocks the ephemeral ports out when only 443 is allowed out",
      [
        E(100, false, "allow", "0.0.0.0/0"),
        E(100, true, "allow", "0.0.0.0/0", 443, 443),
        ...DEFAULTS,
      ],
      { direction: "out", rule: 32767, ports: "1024-65535" },
    ],
    [
      "names an outbound deny of part of the range",
      [
        E(100, false, "allow", "0.0.0.0/0"),
        E(50, true, "deny", "10.250.0.0/16", 32768, 60999),
        E(100, true, "allow", "0.0.0.0/0"),
        ...DEFAULTS,
      ],
      { direction: "out", rule: 50, ports: "32768-60999" },
    ],
    [
      "ignores rules for another source",
      [
        E(50, false, "deny", "192.168.0.0/16"),
        E(100, false, "allow", "0.0.0.0/0"),
        E(100, true, "allow", "0.0.0.0/0"),
        ...DEFAULTS,
      ],
      undefined,
    ],
  ])("%s", (_name, entries, expected) => {
    const v = aclVerdict(entries, "10.250.0.5");
    expect(v && { direction: v.direction, rule: v.rule.rule, ports: v.ports }).toEqual(expected);
  });
});

const TABLES: RouteTable[] = [
  {
    id: "rtb-main",
    main: true,
    subnetIds: [],
    routes: [
      { destination: "10.20.0.0/16", target: "local", blackhole: false },
      { destination: "10.250.0.0/16", target: "vgw-1", blackhole: false },
    ],
  },
  {
    id: "rtb-b",
    main: false,
    subnetIds: ["subnet-b"],
    routes: [{ destination: "10.20.0.0/16", target: "local", blackhole: false }],
  },
  {
    id: "rtb-c",
    main: false,
    subnetIds: ["subnet-c"],
    routes: [
      { destination: "10.250.0.0/16", target: "vgw-1", blackhole: false },
      { destination: "10.250.0.0/24", target: "tgw-1", blackhole: true },
    ],
  },
];

describe("route tables: the subnet's own, else the main one", () => {
  it.each([
    [
      "a subnet without its own table uses the main one, which routes back",
      "subnet-a",
      "rtb-main",
      "route",
    ],
    ["an explicit table without the on-prem route has none", "subnet-b", "rtb-b", "none"],
    [
      "the most specific route decides, and a blackhole counts as none",
      "subnet-c",
      "rtb-c",
      "blackhole",
    ],
  ])("%s", (_name, subnet, table, kind) => {
    const t = routeTableOf(TABLES, subnet)!;
    expect(t.id).toBe(table);
    expect(returnRoute(t, "10.250.0.5").kind).toBe(kind);
  });
});

const SNAP: AwsSnapshot = {
  region: "eu-west-3",
  endpoint: {
    id: "vpce-0abc",
    state: "available",
    privateDnsEnabled: true,
    vpcId: "vpc-1",
    subnetIds: ["subnet-a", "subnet-b"],
    groupIds: ["sg-0a1"],
  },
  subnets: [
    { id: "subnet-a", cidrs: ["10.20.1.0/24"], az: "eu-west-3a" },
    { id: "subnet-b", cidrs: ["10.20.2.0/24"], az: "eu-west-3b" },
  ],
  groups: [SG(["10.250.0.0/16"])],
  acls: [
    {
      id: "acl-1",
      subnetIds: ["subnet-a", "subnet-b"],
      isDefault: true,
      entries: [
        E(100, false, "allow", "0.0.0.0/0"),
        E(100, true, "allow", "0.0.0.0/0"),
        ...DEFAULTS,
      ],
    },
  ],
  routeTables: TABLES.slice(0, 2),
  api: {
    id: "a1b2c3d4e5",
    endpointTypes: ["PRIVATE"],
    policy: JSON.stringify({
      Statement: [
        {
          Effect: "Allow",
          Principal: "*",
          Action: "execute-api:Invoke",
          Resource: "execute-api:/*",
          Condition: { StringEquals: { "aws:SourceVpce": "vpce-0abc" } },
        },
      ],
    }),
  },
  stages: [{ name: "prod", deploymentId: "d1" }],
  unreadable: [],
};
const TARGET: AwsTarget = {
  mode: "header",
  vpceId: "vpce-0abc",
  apiId: "a1b2c3d4e5",
  stages: ["prod"],
  path: "/",
};
const sources = (s: string) =>
  new Map([
    ["10.20.1.10", s],
    ["10.20.2.10", s],
  ]);

describe("evaluateAws", () => {
  it("matches an address to the subnet whose CIDR holds it", () => {
    expect(subnetOf(SNAP, "10.20.2.10")?.id).toBe("subnet-b");
    expect(subnetOf(SNAP, "10.99.0.1")).toBeUndefined();
  });

  it("names the route table of the one AZ without a return route", () => {
    const f = evaluateAws(SNAP, TARGET, ["10.20.1.10", "10.20.2.10"], sources("10.250.0.5"));
    const fails = f.filter((x) => x.status === "fail");
    expect(fails.map((x) => [x.code, x.address, x.evidence.resource, x.evidence.az])).toEqual([
      ["AWS_NO_RETURN_ROUTE", "10.20.2.10", "rtb-b", "eu-west-3b"],
    ]);
    expect(fails[0]!.hint).toContain("rtb-b");
  });

  it("names the security group that lacks this host's range, on every address", () => {
    const f = evaluateAws(
      { ...SNAP, routeTables: [TABLES[0]!] },
      TARGET,
      ["10.20.1.10", "10.20.2.10"],
      sources("192.168.7.7"),
    );
    const sg = f.filter((x) => x.code === "AWS_SG_BLOCKS_SOURCE");
    expect(sg.map((x) => x.address)).toEqual(["10.20.1.10", "10.20.2.10"]);
    expect(sg[0]!.hint).toContain("sg-0a1");
    expect(sg[0]!.evidence.rules).toEqual(["sg-0a1 tcp 443-443 10.250.0.0/16"]);
  });

  it("passes with AWS_OK when everything read agrees", () => {
    const f = evaluateAws(
      { ...SNAP, routeTables: [TABLES[0]!] },
      TARGET,
      ["10.20.1.10"],
      sources("10.250.0.5"),
    );
    expect(f.map((x) => x.code)).toEqual(["AWS_OK"]);
    expect(f[0]!.evidence.checked?.length).toBeGreaterThan(3);
  });

  it.each<[string, Partial<AwsSnapshot>, Partial<AwsTarget>, string, string | undefined]>([
    ["a stage the API lacks", {}, { stages: ["prod", "v2"] }, "AWS_STAGE_MISSING", "v2"],
    ["a stage without deployment", { stages: [{ name: "prod" }] }, {}, "AWS_STAGE_MISSING", "prod"],
    [
      "a regional API",
      { api: { ...SNAP.api!, endpointTypes: ["REGIONAL"] } },
      {},
      "AWS_API_NOT_PRIVATE",
      undefined,
    ],
    [
      "the default endpoint disabled",
      { api: { ...SNAP.api!, disableExecuteApiEndpoint: true } },
      {},
      "AWS_DEFAULT_ENDPOINT_DISABLED",
      undefined,
    ],
    [
      "STRICT in header mode",
      { api: { ...SNAP.api!, endpointAccessMode: "STRICT" } },
      {},
      "AWS_ACCESS_MODE_STRICT",
      undefined,
    ],
    [
      "no resource policy",
      { api: { ...SNAP.api!, policy: undefined } },
      {},
      "AWS_POLICY_EXCLUDES_ENDPOINT",
      undefined,
    ],
    [
      "a pending endpoint",
      { endpoint: { ...SNAP.endpoint!, state: "pendingAcceptance" } },
      {},
      "AWS_ENDPOINT_STATE",
      undefined,
    ],
    [
      "private DNS off in host mode",
      { endpoint: { ...SNAP.endpoint!, privateDnsEnabled: false } },
      { mode: "host" },
      "AWS_ENDPOINT_STATE",
      undefined,
    ],
    [
      "no association for the domain",
      { domainAssociations: [] },
      { mode: "domain", domain: "ledger.example.com", stages: [] },
      "AWS_NO_DOMAIN_ASSOCIATION",
      undefined,
    ],
  ])("%s: %s", (_name, snap, target, code, stage) => {
    const f = evaluateAws(
      { ...SNAP, routeTables: [TABLES[0]!], ...snap },
      { ...TARGET, ...target },
      ["10.20.1.10"],
      sources("10.250.0.5"),
    );
    const fails = f.filter((x) => x.status === "fail");
    expect(fails.map((x) => [x.code, x.stage])).toEqual([[code, stage]]);
  });

  it("says what the API's endpoint type is and what to change", () => {
    const snap = {
      ...SNAP,
      routeTables: [TABLES[0]!],
      api: { ...SNAP.api!, endpointTypes: ["REGIONAL"] },
    };
    const [f] = evaluateAws(snap, TARGET, ["10.20.1.10"], sources("10.250.0.5"));
    expect(f?.hint).toMatch(/^API a1b2c3d4e5 is REGIONAL, not PRIVATE: .*endpoint type to PRIVATE/);
  });

  it("judges aws:VpcSourceIp with the first source address known", () => {
    const policy = JSON.stringify({
      Statement: [
        {
          Effect: "Allow",
          Principal: "*",
          Action: "execute-api:Invoke",
          Resource: "execute-api:/*",
          Condition: { IpAddress: { "aws:VpcSourceIp": "10.250.0.0/16" } },
        },
      ],
    });
    const snap = { ...SNAP, routeTables: [TABLES[0]!], api: { ...SNAP.api!, policy } };
    const known = new Map<string, string | undefined>([
      ["10.20.9.9", undefined],
      ["10.20.1.10", "10.250.0.5"],
    ]);
    const f = evaluateAws(snap, TARGET, ["10.20.9.9", "10.20.1.10"], known);
    expect(f.filter((x) => x.status === "fail")).toEqual([]);
    // Evaluated, not merely left unknown: the Allow is what decided.
    expect(f.at(-1)?.evidence.checked).toContain(
      "API a1b2c3d4e5 policy allows vpce-0abc (statement 1) for prod",
    );
  });

  it("STRICT is no finding in host mode, which it accepts", () => {
    const f = evaluateAws(
      { ...SNAP, routeTables: [TABLES[0]!], api: { ...SNAP.api!, endpointAccessMode: "STRICT" } },
      { ...TARGET, mode: "host" },
      ["10.20.1.10"],
      sources("10.250.0.5"),
    );
    expect(f.map((x) => x.code)).toEqual(["AWS_OK"]);
  });

  it("reports unreadable actions once per error, as a warning", () => {
    const f = evaluateAws(
      {
        region: "eu-west-3",
        unreadable: [
          { action: "ec2:DescribeVpcEndpoints", error: "no credentials" },
          { action: "apigateway:GET /restapis/a1b2c3d4e5", error: "no credentials" },
        ],
      },
      TARGET,
      ["10.20.1.10"],
      sources("10.250.0.5"),
    );
    expect(f.map((x) => [x.code, x.status, x.evidence.actions])).toEqual([
      [
        "AWS_UNREADABLE",
        "warn",
        ["ec2:DescribeVpcEndpoints", "apigateway:GET /restapis/a1b2c3d4e5"],
      ],
    ]);
  });
});

const ALLOW_VPCE = {
  Effect: "Allow",
  Principal: "*",
  Action: "execute-api:Invoke",
  Resource: "execute-api:/*",
};
const REQ = {
  apiId: "a1b2c3d4e5",
  region: "eu-west-3",
  stage: "prod",
  method: "GET",
  path: "/",
  vpceId: "vpce-0abc",
  vpcId: "vpc-1",
  sourceIp: "10.250.0.5",
};

describe("resource policy: the private-API conditions, nothing guessed", () => {
  it.each<[string, object[], string]>([
    [
      "allowed by aws:SourceVpce",
      [{ ...ALLOW_VPCE, Condition: { StringEquals: { "aws:SourceVpce": "vpce-0abc" } } }],
      "allowed",
    ],
    [
      "another endpoint only: no allow",
      [{ ...ALLOW_VPCE, Condition: { StringEquals: { "aws:SourceVpce": "vpce-other" } } }],
      "none",
    ],
    [
      "AWS's example: deny unless the endpoint",
      [
        ALLOW_VPCE,
        {
          ...ALLOW_VPCE,
          Effect: "Deny",
          Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-other" } },
        },
      ],
      "denied",
    ],
    [
      "deny unless the endpoint, which is ours",
      [
        ALLOW_VPCE,
        {
          ...ALLOW_VPCE,
          Effect: "Deny",
          Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-0abc" } },
        },
      ],
      "allowed",
    ],
    [
      "aws:SourceVpc",
      [{ ...ALLOW_VPCE, Condition: { StringEquals: { "aws:SourceVpc": "vpc-1" } } }],
      "allowed",
    ],
    [
      "aws:VpcSourceIp outside the range",
      [{ ...ALLOW_VPCE, Condition: { IpAddress: { "aws:VpcSourceIp": "10.1.0.0/16" } } }],
      "none",
    ],
    [
      "aws:VpcSourceIp inside the range",
      [{ ...ALLOW_VPCE, Condition: { IpAddress: { "aws:VpcSourceIp": ["10.250.0.0/16"] } } }],
      "allowed",
    ],
    [
      "another stage's resource only",
      [{ ...ALLOW_VPCE, Resource: "arn:aws:execute-api:eu-west-3:123456789012:a1b2c3d4e5/v2/*" }],
      "none",
    ],
    [
      "an ARN for this stage",
      [{ ...ALLOW_VPCE, Resource: "arn:aws:execute-api:eu-west-3:*:a1b2c3d4e5/prod/GET/*" }],
      "allowed",
    ],
    [
      "a key it does not evaluate",
      [{ ...ALLOW_VPCE, Condition: { StringEquals: { "aws:PrincipalOrgID": "o-1" } } }],
      "unknown",
    ],
    [
      "a principal that depends on the caller",
      [{ ...ALLOW_VPCE, Principal: { AWS: "arn:aws:iam::123456789012:root" } }],
      "unknown",
    ],
  ])("%s", (_name, statements, result) => {
    expect(evaluatePolicy(statements, REQ).result).toBe(result);
  });

  it("lists what it did not evaluate", () => {
    const r = evaluatePolicy(
      [{ ...ALLOW_VPCE, Sid: "org", Condition: { StringEquals: { "aws:PrincipalOrgID": "o-1" } } }],
      REQ,
    );
    expect(r.notEvaluated).toEqual(["org: StringEquals aws:PrincipalOrgID"]);
  });

  it("reads the policy as API Gateway returns it, quotes escaped", () => {
    const escaped = JSON.stringify({ Version: "2012-10-17", Statement: [ALLOW_VPCE] }).replace(
      /"/g,
      '\\"',
    );
    expect(parsePolicy(escaped)).toEqual([ALLOW_VPCE]);
  });
});
