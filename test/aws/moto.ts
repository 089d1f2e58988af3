// moto's server (moto 5, `moto_server`) on loopback: a real AWS API server for the aws layer's
// tests, seeded through its own API with the real SDK, stopped by its PID.
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateRestApiCommand,
  GetResourcesCommand,
  PutIntegrationCommand,
  PutMethodCommand,
} from "@aws-sdk/client-api-gateway";
import {
  AssociateRouteTableCommand,
  AttachVpnGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  CreateVpnGatewayCommand,
  DescribeRouteTablesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";

// This test process seeds moto with the SDK too: its Node 20 warning must not clutter the output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

export const REGION = "us-east-1";
/** Static, fake: moto accepts any. */
export const CREDENTIALS = { accessKeyId: "AKIDMOTOTEST", secretAccessKey: "moto-test-secret" };

export interface Moto {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `moto_server` on the PATH (`.ci/run` fails early without it). */
export function motoAvailable(): boolean {
  const fs = process.getBuiltinModule("node:fs");
  return (process.env.PATH ?? "").split(":").some((dir) => {
    try {
      return dir !== "" && fs.statSync(`${dir}/moto_server`).isFile();
    } catch {
      return false;
    }
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error("moto_server did not answer within 30 s");
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, child, stop };
}

export interface Seeded {
  vpcId: string;
  vpceId: string;
  subnets: { a: string; b: string };
  groupId: string;
  mainTable: string;
  tableB: string;
  vgwId: string;
  apiId: string;
}

/**
 * The lab's VPC on moto: two subnets (one per AZ), the endpoint's security group allowing only
 * `sgRange` on 443, an interface endpoint for execute-api, a VGW; the main table routes
 * `onprem` to the VGW, subnet b has a table of its own without it. A PRIVATE REST API whose
 * resource policy allows the endpoint, deployed to `prod` only.
 */
export async function seed(
  url: string,
  opts: { vpcCidr: string; subnetA: string; subnetB: string; sgRange: string; onprem: string },
): Promise<Seeded> {
  const config = { region: REGION, endpoint: url, credentials: CREDENTIALS };
  const ec2 = new EC2Client(config);
  const ag = new APIGatewayClient(config);
  try {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: opts.vpcCidr }))).Vpc!;
    const vpcId = vpc.VpcId!;
    const subnet = async (cidr: string, az: string) =>
      (
        await ec2.send(
          new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: az }),
        )
      ).Subnet!.SubnetId!;
    const a = await subnet(opts.subnetA, `${REGION}a`);
    const b = await subnet(opts.subnetB, `${REGION}b`);
    const groupId = (
      await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: "execute-api-endpoint",
          Description: "interface endpoint",
          VpcId: vpcId,
        }),
      )
    ).GroupId!;
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: opts.sgRange }] },
        ],
      }),
    );
    const vpceId = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: vpcId,
          ServiceName: `com.amazonaws.${REGION}.execute-api`,
          VpcEndpointType: "Interface",
          SubnetIds: [a, b],
          SecurityGroupIds: [groupId],
          PrivateDnsEnabled: true,
        }),
      )
    ).VpcEndpoint!.VpcEndpointId!;
    const vgwId = (await ec2.send(new CreateVpnGatewayCommand({ Type: "ipsec.1" }))).VpnGateway!
      .VpnGatewayId!;
    await ec2.send(new AttachVpnGatewayCommand({ VpcId: vpcId, VpnGatewayId: vgwId }));
    const tables = await ec2.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
    );
    const mainTable = tables.RouteTables!.find((t) =>
      t.Associations?.some((x) => x.Main),
    )!.RouteTableId!;
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: mainTable,
        DestinationCidrBlock: opts.onprem,
        GatewayId: vgwId,
      }),
    );
    const tableB = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!
      .RouteTableId!;
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: tableB, SubnetId: b }));
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: "*",
          Action: "execute-api:Invoke",
          Resource: "execute-api:/*",
          Condition: { StringEquals: { "aws:SourceVpce": vpceId } },
        },
      ],
    };
    const apiId = (
      await ag.send(
        new CreateRestApiCommand({
          name: "orders",
          endpointConfiguration: { types: ["PRIVATE"] },
          policy: JSON.stringify(policy),
        }),
      )
    ).id!;
    const root = (await ag.send(new GetResourcesCommand({ restApiId: apiId }))).items![0]!.id!;
    const method = { restApiId: apiId, resourceId: root, httpMethod: "GET" };
    await ag.send(new PutMethodCommand({ ...method, authorizationType: "NONE" }));
    await ag.send(new PutIntegrationCommand({ ...method, type: "MOCK" }));
    await ag.send(new CreateDeploymentCommand({ restApiId: apiId, stageName: "prod" }));
    return { vpcId, vpceId, subnets: { a, b }, groupId, mainTable, tableB, vgwId, apiId };
  } finally {
    ec2.destroy();
    ag.destroy();
  }
}

/**
 * The environment of a CLI that reads AWS from moto and from nowhere else: no shared config or
 * credentials files of this machine, no instance metadata (which would be 169.254.169.254).
 */
export function awsEnv(url: string, credentials = true): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: url,
    AWS_REGION: REGION,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/nonexistent/aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
    ...(credentials
      ? {
          AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        }
      : {}),
  };
}
