// Run inside the lab's on-prem namespace (its loopback is moto's): waits for moto_server, then
// seeds it as the lab's VPC, or changes one rule. Prints one JSON line. Talks to loopback only.
//   node test/lab/aws-seed.mjs seed URL         -> {"vpceId":...,"groupId":...,"tableB":...,"apiId":...}
//   node test/lab/aws-seed.mjs revoke URL GROUP CIDR
import * as ec2m from "@aws-sdk/client-ec2";
import * as agm from "@aws-sdk/client-api-gateway";
import { setTimeout as sleep } from "node:timers/promises";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const [command, url, ...rest] = process.argv.slice(2);
const config = {
  region: "us-east-1",
  endpoint: url,
  credentials: { accessKeyId: "AKIDMOTOTEST", secretAccessKey: "moto-test-secret" },
};
const ec2 = new ec2m.EC2Client(config);
const ag = new agm.APIGatewayClient(config);

async function waitForMoto() {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await globalThis.fetch(`${url}/moto-api/`, {
        signal: globalThis.AbortSignal.timeout(1000),
      });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error("moto_server did not answer within 30 s");
    await sleep(200);
  }
}

// The lab's VPC (test/lab/README.md): 10.20.1.0/24 in AZ a, 10.20.2.0/24 in AZ b; on-prem is
// 10.0.0.0/24 behind a virtual private gateway. The main table routes on-prem to the VGW; subnet
// b has a table of its own without that route. The security group allows 443 from on-prem and
// from 10.250.0.0/16.
async function seed() {
  const vpcId = (await ec2.send(new ec2m.CreateVpcCommand({ CidrBlock: "10.20.0.0/16" }))).Vpc
    .VpcId;
  const subnet = async (cidr, az) =>
    (
      await ec2.send(
        new ec2m.CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: az }),
      )
    ).Subnet.SubnetId;
  const a = await subnet("10.20.1.0/24", "us-east-1a");
  const b = await subnet("10.20.2.0/24", "us-east-1b");
  const groupId = (
    await ec2.send(
      new ec2m.CreateSecurityGroupCommand({
        GroupName: "endpoint",
        Description: "endpoint",
        VpcId: vpcId,
      }),
    )
  ).GroupId;
  await ec2.send(
    new ec2m.AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [
        {
          IpProtocol: "tcp",
          FromPort: 443,
          ToPort: 443,
          IpRanges: [{ CidrIp: "10.0.0.0/24" }, { CidrIp: "10.250.0.0/16" }],
        },
      ],
    }),
  );
  const vpceId = (
    await ec2.send(
      new ec2m.CreateVpcEndpointCommand({
        VpcId: vpcId,
        ServiceName: "com.amazonaws.us-east-1.execute-api",
        VpcEndpointType: "Interface",
        SubnetIds: [a, b],
        SecurityGroupIds: [groupId],
        PrivateDnsEnabled: true,
      }),
    )
  ).VpcEndpoint.VpcEndpointId;
  const vgwId = (await ec2.send(new ec2m.CreateVpnGatewayCommand({ Type: "ipsec.1" }))).VpnGateway
    .VpnGatewayId;
  await ec2.send(new ec2m.AttachVpnGatewayCommand({ VpcId: vpcId, VpnGatewayId: vgwId }));
  const tables = await ec2.send(
    new ec2m.DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
  );
  const mainTable = tables.RouteTables.find((t) =>
    t.Associations?.some((x) => x.Main),
  ).RouteTableId;
  await ec2.send(
    new ec2m.CreateRouteCommand({
      RouteTableId: mainTable,
      DestinationCidrBlock: "10.0.0.0/24",
      GatewayId: vgwId,
    }),
  );
  const tableB = (await ec2.send(new ec2m.CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable
    .RouteTableId;
  await ec2.send(new ec2m.AssociateRouteTableCommand({ RouteTableId: tableB, SubnetId: b }));
  const policy = JSON.stringify({
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
  });
  const apiId = (
    await ag.send(
      new agm.CreateRestApiCommand({
        name: "orders",
        endpointConfiguration: { types: ["PRIVATE"] },
        policy,
      }),
    )
  ).id;
  const root = (await ag.send(new agm.GetResourcesCommand({ restApiId: apiId }))).items[0].id;
  const method = { restApiId: apiId, resourceId: root, httpMethod: "GET" };
  await ag.send(new agm.PutMethodCommand({ ...method, authorizationType: "NONE" }));
  await ag.send(new agm.PutIntegrationCommand({ ...method, type: "MOCK" }));
  await ag.send(new agm.CreateDeploymentCommand({ restApiId: apiId, stageName: "prod" }));
  return { vpcId, vpceId, subnets: { a, b }, groupId, mainTable, tableB, vgwId, apiId };
}

await waitForMoto();
let out;
if (command === "seed") out = await seed();
else if (command === "revoke") {
  const [groupId, cidr] = rest;
  await ec2.send(
    new ec2m.RevokeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: cidr }] },
      ],
    }),
  );
  out = { revoked: cidr };
} else throw new Error(`unknown command ${command}`);
ec2.destroy();
ag.destroy();
process.stdout.write(`${JSON.stringify(out)}\n`);
