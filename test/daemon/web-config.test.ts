// The web config file as exporter-toolkit defines it: an operator's file loads unchanged, and an
// unusable one is refused with one line that names the field.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadWebConfig } from "../../src/daemon/web-config.js";
import { UsageError } from "../../src/types.js";
import { doorPki, htpasswdHash, type DoorPki } from "./door-certs.js";
import { hasPromtool, requirePromtool } from "./helpers.js";

let pki: DoorPki;
let aliceHash: string;

beforeAll(() => {
  pki = doorPki();
  aliceHash = htpasswdHash("alice-password");
});
afterAll(() => pki.remove());

/** exporter-toolkit's docs/web-config.yml, as an operator copies it (hashes of our passwords). */
const docsSample = (
  alice: string,
  bob: string,
) => `# TLS and basic authentication configuration example.
#
# Additionally, a certificate and a key file are needed.
tls_server_config:
  cert_file: server.crt
  key_file: server.key

# Usernames and passwords required to connect.
# Passwords are hashed with bcrypt: https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md#about-bcrypt.
basic_auth_users:
  alice: ${alice}
  bob: ${bob}

# Exclude /-/healthy and /-/ready from basic authentication
basic_auth_excluded_paths:
- /-/healthy
- /-/ready
`;

async function refusal(text: string): Promise<string> {
  const file = pki.write(`bad-${Math.random().toString(36).slice(2)}.yml`, text);
  const err = await loadWebConfig(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  const message = (err as Error).message;
  expect(message.split("\n")).toHaveLength(1);
  expect(message).toContain(file);
  return message;
}

describe("web config", () => {
  it("loads exporter-toolkit's sample file, cert paths relative to the file", async () => {
    const file = pki.write("web-config.yml", docsSample(aliceHash, htpasswdHash("bob-password")));
    const web = await loadWebConfig(file);
    expect(web.tls?.context.cert).toBe(pki.server.certPem);
    expect(web.tls?.context.key).toBe(pki.server.keyPem);
    expect(web.tls?.clientAuth).toBe("NoClientCert");
    expect(web.tls?.context.minVersion).toBe("TLSv1.2");
    expect([...web.users.keys()]).toEqual(["alice", "bob"]);
    expect(web.excludedPaths).toEqual(["/-/healthy", "/-/ready"]);
  });

  it("loads every documented field of tls_server_config and http_server_config", async () => {
    const file = pki.write(
      "full.yml",
      `tls_server_config:
  cert_file: server.crt
  key_file: ${pki.dir}/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: client-ca.crt
  client_allowed_sans: [prometheus.monitoring.svc]
  min_version: TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
  prefer_server_cipher_suites: false
  curve_preferences: [X25519, CurveP256]
http_server_config:
  http2: false
  headers:
    Content-Security-Policy: "default-src 'none'"
    X-Frame-Options: deny
    X-Content-Type-Options: nosniff
    X-XSS-Protection: "1; mode=block"
    Strict-Transport-Security: max-age=31536000
rate_limit:
  interval: 1s
  burst: 20
`,
    );
    const web = await loadWebConfig(file);
    expect(web.tls?.clientAuth).toBe("RequireAndVerifyClientCert");
    expect(web.tls?.context.ca).toBe(pki.clientCaPem);
    expect(web.tls?.allowedSans).toEqual(["prometheus.monitoring.svc"]);
    expect(web.tls?.context).toMatchObject({
      minVersion: "TLSv1.3",
      maxVersion: "TLSv1.3",
      ciphers: "ECDHE-RSA-AES128-GCM-SHA256",
      ecdhCurve: "X25519:P-256",
      honorCipherOrder: false,
    });
    expect(web.headers.map(([name]) => name)).toEqual([
      "Content-Security-Policy",
      "X-Frame-Options",
      "X-Content-Type-Options",
      "X-XSS-Protection",
      "Strict-Transport-Security",
    ]);
    expect(web.rateLimit).toEqual({ intervalMs: 1000, burst: 20 });
    expect(web.users.size).toBe(0);
  });

  it("serves plain HTTP with basic auth when tls_server_config is absent", async () => {
    const web = await loadWebConfig(
      pki.write("auth.yml", `basic_auth_users:\n  alice: ${aliceHash}\n`),
    );
    expect(web.tls).toBeUndefined();
    expect(web.users.get("alice")).toBe(aliceHash);
  });

  it.each([
    ["not YAML", "tls_server_config: [", /not valid YAML/],
    ["a misspelt field", "basic_auth_user:\n  alice: x\n", /basic_auth_user: unknown field/],
    [
      "a misspelt TLS field",
      "tls_server_config:\n  certfile: server.crt\n",
      /tls_server_config.certfile: unknown field/,
    ],
    [
      "a header it may not set",
      "http_server_config:\n  headers:\n    Server: x\n",
      /HTTP header "Server" can not be configured/,
    ],
    [
      "a header value it does not know",
      "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
      /X-Frame-Options: one of deny, sameorigin/,
    ],
    [
      "a password that is not a bcrypt hash",
      "basic_auth_users:\n  alice: secret\n",
      /basic_auth_users.alice: not a bcrypt hash/,
    ],
    [
      "a certificate without its key",
      "tls_server_config:\n  cert_file: server.crt\n",
      /missing one of key or key_file/,
    ],
    [
      "a file that is not there",
      "tls_server_config:\n  cert_file: nothere.crt\n  key_file: server.key\n",
      /cert_file: \S+nothere\.crt cannot read \(ENOENT\)/,
    ],
    [
      "a key that is not the certificate's",
      "tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n",
      /tls_server_config: .*(key values mismatch|mismatch)/i,
    ],
    [
      "a client CA without a client auth type",
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: client-ca.crt\n",
      /client CA without client_auth_type/,
    ],
    [
      "a client auth type it does not know",
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Always\n",
      /"Always" is not one of/,
    ],
    [
      "a client CA file without a certificate",
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: server.key\n",
      /no PEM certificate/,
    ],
    [
      "a TLS version it does not know",
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS14\n",
      /min_version: "TLS14" is not one of/,
    ],
    [
      "a cipher it does not know",
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [TLS_FOO]\n",
      /unknown cipher: TLS_FOO/,
    ],
    [
      "a rate limit interval that is no duration",
      "rate_limit:\n  interval: soon\n  burst: 1\n",
      /rate_limit.interval: "soon" is not a duration/,
    ],
  ])("refuses %s with one line naming the field", async (_what, text, pattern) => {
    expect(await refusal(text)).toMatch(pattern);
  });

  it("refuses a web config that is not a regular file, or missing", async () => {
    await expect(loadWebConfig(pki.dir)).rejects.toThrow(/is not a regular file/);
    await expect(loadWebConfig(`${pki.dir}/missing.yml`)).rejects.toThrow(/cannot read \(ENOENT\)/);
  });
});

// Prometheus' own reading of the format (Debian's promtool, exporter-toolkit in Go) must agree
// with ours on what a usable file is. Only what that promtool's toolkit knows is asked: it
// predates basic_auth_excluded_paths, client_allowed_sans and rate_limit.
const TLS = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";
describe.runIf(hasPromtool || requirePromtool)(
  "web config, as promtool check web-config reads it",
  () => {
    const cases: [string, string][] = [
      ["TLS and basic auth", `${TLS}basic_auth_users:\n  alice: HASH\n  bob: HASH\n`],
      ["a misspelt field", "basic_auth_user:\n  alice: HASH\n"],
      ["a header it may not set", "http_server_config:\n  headers:\n    Server: x\n"],
      ["a header value", "http_server_config:\n  headers:\n    X-Frame-Options: allow\n"],
      [
        "every header",
        "http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n    X-Content-Type-Options: nosniff\n    Content-Security-Policy: \"default-src 'none'\"\n",
      ],
      ["a password in clear", "basic_auth_users:\n  alice: alice-password\n"],
      ["a certificate without key", "tls_server_config:\n  cert_file: server.crt\n"],
      [
        "a key that is not there",
        "tls_server_config:\n  cert_file: server.crt\n  key_file: nothere.key\n",
      ],
      [
        "a key of another certificate",
        "tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n",
      ],
      ["a client CA without policy", `${TLS}  client_ca_file: client-ca.crt\n`],
      [
        "client verification",
        `${TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: client-ca.crt\n`,
      ],
      [
        "client verification against the system roots",
        `${TLS}  client_auth_type: RequireAndVerifyClientCert\n`,
      ],
      ["an unknown policy", `${TLS}  client_auth_type: Always\n`],
      [
        "TLS 1.3 only, ciphers and curves",
        `${TLS}  min_version: TLS13\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n  curve_preferences: [X25519, CurveP384]\n`,
      ],
      ["an unknown version", `${TLS}  min_version: TLS14\n`],
      ["an unknown cipher", `${TLS}  cipher_suites: [TLS_FOO]\n`],
    ];
    it.each(cases)("agrees on %s", async (_what, template) => {
      const file = pki.write(
        `agree-${Math.random().toString(36).slice(2)}.yml`,
        template.replaceAll("HASH", aliceHash),
      );
      const theirs = spawnSync("promtool", ["check", "web-config", file], { encoding: "utf8" });
      const ours = await loadWebConfig(file).then(
        () => "usable",
        (err: Error) => `refused: ${err.message}`,
      );
      expect(ours, theirs.stdout + theirs.stderr).toEqual(
        theirs.status === 0 ? "usable" : expect.stringMatching(/^refused: web config /),
      );
    });
  },
);
