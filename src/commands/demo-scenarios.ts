// `demo --scenario NAME`: today's private-API failures, each on the simulator on loopback, so a
// newcomer sees the code, the cause and the fix the tool gives for it. The default demo is not
// here: it stays as it was (one stage deployed, one not).
import type { Overrides } from "../config/load.js";
import type { Ipv6Connectivity } from "../probes/ipv6-connectivity.js";
import type { Simulator, SimulatorOptions } from "../simulator/index.js";

export interface Scenario {
  /** What the simulated world is, printed before the report. */
  story: string;
  simulator: SimulatorOptions;
  target: (sim: Simulator) => Overrides;
  /** The demo decides IPv6 connectivity itself: ::1 stands in for the VPC's IPv6 addresses. */
  ipv6?: () => Ipv6Connectivity;
}

const DOMAIN = "ledger.intra.example.com";
const basePaths = { "": "prod", prod: "prod", v2: "v2" };

export const SCENARIOS: Record<string, Scenario> = {
  strict: {
    story:
      "the API uses an enhanced security policy in STRICT endpoint access mode: it refuses the\n      vpce name with x-apigw-api-id (header mode) and answers its private DNS name only.",
    simulator: { accessMode: "STRICT" },
    target: () => ({ stages: ["prod", "v2"] }),
  },
  dualstack: {
    story:
      "a dualstack endpoint: IPv4 address 127.0.0.1, IPv6 ::1 (loopback stands in for the VPC's\n      global IPv6 addresses); the IPv6 address refuses connections.",
    simulator: {
      // 127.0.0.1 and ::1: every loopback has them, macOS's too.
      addresses: ["127.0.0.1", "::1"],
      faults: { address: { "::1": "refuse" } },
    },
    target: () => ({ stages: ["prod", "v2"], family: "auto" }),
    ipv6: () => ({ ok: true, reason: "demo: ::1 stands in for this host's IPv6" }),
  },
  "domain-unassociated": {
    story: `a private custom domain name ${DOMAIN} served through the endpoint, without a domain\n      name access association with it; the API itself works.`,
    simulator: { domains: [{ name: DOMAIN, associated: false, basePaths }] },
    target: (sim) => ({ domain: DOMAIN, basePaths: ["prod"], apiId: sim.apiId, stages: ["prod"] }),
  },
  "domain-elsewhere": {
    story: `the private hosted zone's alias for ${DOMAIN} points at another endpoint (127.0.0.3),\n      not at this one.`,
    simulator: {
      domains: [{ name: DOMAIN, associated: true, basePaths }],
      dnsOverrides: { [DOMAIN]: ["127.0.0.3"] },
    },
    target: () => ({ domain: DOMAIN, basePaths: ["prod"], apiId: undefined, stages: undefined }),
  },
  "strict-421": {
    story:
      "the API is in STRICT endpoint access mode and its front end refuses the vpce name with\n      421 Misdirected Request, as CloudFront's domain-fronting protection does; the private DNS\n      name works.",
    simulator: { accessMode: "STRICT", strictRefusal: 421 },
    target: () => ({ stages: ["prod", "v2"] }),
  },
  "default-endpoint-disabled": {
    story: `the API's default endpoint is disabled (disableExecuteApiEndpoint), as it usually is once\n      the private custom domain ${DOMAIN} exists: every mode but the domain answers 403.`,
    simulator: {
      defaultEndpointDisabled: true,
      domains: [{ name: DOMAIN, associated: true, basePaths }],
    },
    target: () => ({ stages: ["prod", "v2"] }),
  },
  "zone-forward": {
    story:
      "on-prem DNS forwards the whole execute-api.us-east-1.amazonaws.com zone to the VPC, whose\n      endpoint has private DNS on: any API id of the region, even a made-up one, resolves to it.",
    simulator: { faults: { dns: "zone-forward" } },
    target: () => ({ stages: ["prod", "v2"] }),
  },
  "aaaa-only": {
    story:
      "the endpoint publishes AAAA records only (DnsRecordIpType ipv6): its one address is ::1\n      (loopback stands in for the VPC's IPv6 addresses); the A question gets no data.",
    simulator: { addresses: ["::1"], faults: { dns: "aaaa-only" } },
    target: () => ({ stages: ["prod", "v2"], family: "auto" }),
    ipv6: () => ({ ok: true, reason: "demo: ::1 stands in for this host's IPv6" }),
  },
  "tls13-only": {
    story:
      "the API uses a TLS 1.3-only security policy (SecurityPolicy_TLS13_1_3_*): this host speaks\n      TLS 1.3 and works, clients limited to TLS 1.2 are refused.",
    simulator: { tlsMinVersion: "TLSv1.3" },
    target: () => ({ stages: ["prod", "v2"] }),
  },
  "missing-token-404": {
    story:
      "the team customized the MISSING_AUTHENTICATION_TOKEN gateway response to 404: stage prod has\n      no GET method, and says so with a 404 that keeps its error type.",
    simulator: { stages: { prod: "missing-token-404", v2: "ok" } },
    target: () => ({ stages: ["prod", "v2"] }),
  },
  "domain-deny-all": {
    story: `the private custom domain ${DOMAIN} is associated with the endpoint, but its own\n      resource policy (policy) is still the deny-all it was created with.`,
    simulator: { domains: [{ name: DOMAIN, associated: true, basePaths, policy: "deny-all" }] },
    target: () => ({ domain: DOMAIN, basePaths: ["prod"], apiId: undefined, stages: undefined }),
  },
};

export const SCENARIO_NAMES = Object.keys(SCENARIOS);
