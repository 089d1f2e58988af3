// The aws layer's hints: what to change on the AWS side. Each finding's own hint names the
// resource; these are the texts per code (src/diagnose/hints.ts spreads them into HINTS).
import type { AwsCode } from "../types.js";

export const AWS_HINTS: Record<AwsCode, string> = {
  AWS_OK: "",
  // https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html
  AWS_SG_BLOCKS_SOURCE:
    "No security group of the interface endpoint allows inbound TCP 443 from this host's source address: add an inbound rule for HTTPS (TCP 443) from the on-premises range to one of the endpoint's security groups.",
  // https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html (ACLs are stateless)
  AWS_NACL_BLOCKS:
    "The network ACL of the endpoint's subnet denies this host's traffic: ACLs are stateless and read in rule-number order, so TCP 443 must be allowed inbound from the on-premises range and the ephemeral ports (1024-65535) outbound to it, before any deny rule with a lower number.",
  // https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html
  AWS_NO_RETURN_ROUTE:
    "The route table of the endpoint's subnet has no route back to this host (none, or a blackhole): the answer never leaves the VPC. Route the on-premises prefix to the virtual private gateway or transit gateway, or enable route propagation from the virtual private gateway.",
  AWS_ENDPOINT_STATE:
    "The interface endpoint is not available, or its private DNS is off while the access mode uses the API's private DNS name: wait for or fix the endpoint (Pending, Rejected, Failed), or enable private DNS names, or call it in header mode (endpoint name and x-apigw-api-id).",
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-apis.html
  AWS_API_NOT_PRIVATE:
    "The API's endpoint type is not PRIVATE: an interface endpoint for execute-api reaches private APIs only (a public API through it answers 403). Change the endpoint type to PRIVATE, or call the API over its public or custom domain name.",
  AWS_STAGE_MISSING:
    "The stage does not exist on this API, or has no deployment: create the deployment for the stage (API Gateway answers 403 Forbidden for a stage it does not have).",
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies-examples.html
  AWS_POLICY_EXCLUDES_ENDPOINT:
    "The API's resource policy does not let this endpoint invoke it: a private API needs a resource policy that allows execute-api:Invoke for this endpoint (aws:SourceVpce or aws:SourceVpc) and no Deny that matches it. Deploy the API again after changing the policy.",
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-disable-default-endpoint.html
  AWS_DEFAULT_ENDPOINT_DISABLED:
    "disableExecuteApiEndpoint is on: the API answers only through its custom domain names. Call it through the custom domain, or turn the default endpoint back on and redeploy.",
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies.html
  AWS_ACCESS_MODE_STRICT:
    "The API's endpoint access mode is STRICT (enhanced security policy): only the private DNS name and custom domain names are accepted, not the endpoint name with x-apigw-api-id. Move these clients to the private DNS name or the custom domain; switching the API to BASIC makes it unavailable for about 15 minutes, for the clients that work too.",
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains.html
  AWS_NO_DOMAIN_ASSOCIATION:
    "No domain name access association from this VPC endpoint to the private custom domain: create one (the domain owner's account; about 15 minutes to be ready).",
  AWS_UNREADABLE:
    "The aws layer could not read this (no credentials, or access denied): grant the read-only actions listed in the README's IAM policy, or pass --aws-profile. The rest of the diagnosis does not depend on it.",
};
