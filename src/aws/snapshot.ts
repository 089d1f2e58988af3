// What the aws layer read, as plain data: the reader (sdk.ts) fills it from AWS's answers, the
// evaluation (evaluate.ts) judges it. No SDK type reaches beyond the reader.

/** An inbound security group rule: protocol "-1" is every protocol. */
export interface SgRule {
  protocol: string;
  from?: number;
  to?: number;
  cidrs: string[];
  /** Prefix lists and referenced groups: what a CIDR comparison cannot evaluate. */
  references: string[];
}

export interface SecurityGroup {
  id: string;
  name?: string;
  inbound: SgRule[];
}

export interface Subnet {
  id: string;
  /** IPv4 and IPv6 CIDR blocks. */
  cidrs: string[];
  az?: string;
}

export interface AclEntry {
  rule: number;
  egress: boolean;
  /** "-1" (all), "6" (TCP), or another protocol number. */
  protocol: string;
  action: "allow" | "deny";
  cidr: string;
  from?: number;
  to?: number;
}

export interface NetworkAcl {
  id: string;
  subnetIds: string[];
  isDefault: boolean;
  entries: AclEntry[];
}

export interface Route {
  /** IPv4 or IPv6 destination; absent for a prefix-list destination. */
  destination?: string;
  prefixList?: string;
  /** igw-, vgw-, tgw-, pcx-, eni-, `local`... */
  target: string;
  blackhole: boolean;
}

export interface RouteTable {
  id: string;
  main: boolean;
  subnetIds: string[];
  routes: Route[];
}

export interface Endpoint {
  id: string;
  state?: string;
  privateDnsEnabled?: boolean;
  vpcId?: string;
  subnetIds: string[];
  groupIds: string[];
}

export interface RestApi {
  id: string;
  endpointTypes: string[];
  /** The resource policy as API Gateway returns it (JSON, possibly with escaped quotes). */
  policy?: string;
  disableExecuteApiEndpoint?: boolean;
  endpointAccessMode?: string;
  securityPolicy?: string;
}

export interface Stage {
  name: string;
  deploymentId?: string;
}

export interface DomainAssociation {
  domainNameArn: string;
  source: string;
}

/** An action that failed: `ec2:DescribeRouteTables` and why (AccessDenied, no credentials...). */
export interface Unreadable {
  action: string;
  error: string;
}

export interface AwsSnapshot {
  region: string;
  endpoint?: Endpoint;
  subnets?: Subnet[];
  groups?: SecurityGroup[];
  acls?: NetworkAcl[];
  routeTables?: RouteTable[];
  api?: RestApi;
  stages?: Stage[];
  domainAssociations?: DomainAssociation[];
  unreadable: Unreadable[];
}
