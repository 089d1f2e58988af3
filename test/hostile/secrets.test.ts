// Secret header values never reach an output channel of the built CLI: not the report (text or
// JSON), not the logs, not an error line, even when a hostile server echoes the request back.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_API_ID, DEFAULT_ENDPOINT } from "../../src/simulator/index.js";
import { addressReply, dnsPeer, tlsPeer, type Peer } from "./servers.js";
import { cli, type CliResult } from "../run-cli.js";

const API_KEY = "SEKRET-apikey-7f3a9c";
const TOKEN = "SEKRET-token-2b8e41";
const CUSTOM = "SEKRET-custom-d40c55";
const SECRETS = [API_KEY, TOKEN, CUSTOM];

let dns: Peer;
let echo: Peer;
let dir: string;
let configFile: string;
const requests: string[] = [];

beforeAll(async () => {
  dns = await dnsPeer((q, reply) => reply(addressReply(q, ["127.0.0.1"])));
  // A WAF-like error page that reflects the whole request, in a header and in the body.
  echo = await tlsPeer(DEFAULT_ENDPOINT, (s, request) => {
    requests.push(request);
    const body = JSON.stringify({ message: `Forbidden: ${request}` });
    s.end(
      "HTTP/1.1 403 Forbidden\r\n" +
        "x-amzn-RequestId: 11111111-2222-3333-4444-555555555555\r\n" +
        "x-amzn-ErrorType: ForbiddenException\r\n" +
        `x-echo: ${request.split("\r\n").join(" | ")}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  dir = mkdtempSync(join(tmpdir(), "apigw-diag-secrets-"));
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, (echo as Peer & { caPem: string }).caPem);
  configFile = join(dir, "config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      resolvers: [`127.0.0.1:${dns.port}`],
      port: echo.port,
      caFile,
      privateCidrs: ["127.0.0.0/8"],
      compareOs: false,
      timeout: "1s",
      targets: [
        {
          name: "orders",
          endpoint: DEFAULT_ENDPOINT,
          apiId: DEFAULT_API_ID,
          stages: ["prod", "v2"],
          headers: { "x-custom-token": { value: CUSTOM, secret: true } },
        },
      ],
    }),
  );
});
afterAll(async () => {
  await Promise.all([dns.close(), echo.close()]);
  rmSync(dir, { recursive: true, force: true });
});

function expectNoSecret(r: CliResult, secrets = SECRETS): void {
  for (const channel of [r.stdout, r.stderr])
    for (const secret of secrets) {
      expect(channel).not.toContain(secret);
      // The credential part alone, as a server might echo it.
      expect(channel).not.toContain(secret.slice(7));
    }
}

const secretFlags = [`--header=x-api-key: ${API_KEY}`, `--header=Authorization: Bearer ${TOKEN}`];

describe("secret header values", () => {
  it.each(["json", "text"])(
    "stay out of the %s report and the trace-level logs, even when the server echoes them",
    async (format) => {
      requests.length = 0;
      const r = await cli([
        "diagnose",
        `--config=${configFile}`,
        ...secretFlags,
        `--format=${format}`,
        "--log-level=trace",
      ]);
      expect(r.code).toBe(2);
      // The test means something only if the secrets were sent and echoed.
      expect(requests.join("\n")).toContain(API_KEY);
      expect(requests.join("\n")).toContain(TOKEN);
      expect(requests.join("\n")).toContain(CUSTOM);
      expect(r.stdout).toContain("HTTP_FORBIDDEN");
      // The echo is still shown, with the values replaced (the logs carry the whole body).
      expect(r.stderr).toContain("[REDACTED]");
      expect(r.stderr).toContain('"event":"finding"');
      expectNoSecret(r);
    },
  );

  it("shows secret headers as [REDACTED] in the JSON evidence", async () => {
    const r = await cli(["diagnose", `--config=${configFile}`, ...secretFlags, "--format=json"]);
    const report = JSON.parse(r.stdout) as {
      targets: { findings: { layer: string; evidence: { headers?: Record<string, string> } }[] }[];
    };
    const http = report.targets[0]!.findings.find((f) => f.layer === "http");
    expect(http?.evidence.headers).toMatchObject({
      "x-api-key": "[REDACTED]",
      authorization: "[REDACTED]",
      "x-custom-token": "[REDACTED]",
    });
  });

  const errorCases: [string, string[], NodeJS.ProcessEnv][] = [
    ["a control byte in the value", [`--header=x-api-key: ${API_KEY}\u0001`], {}],
    ["CR/LF in the value", [`--header=authorization: Bearer ${TOKEN}\r\nx-b: c`], {}],
    ["a space before the colon", [`--header=Authorization Bearer ${TOKEN}:x`], {}],
    ["no colon at all", [`--header=x-api-key ${API_KEY}`], {}],
    ["the value as an unknown flag", [`--x-api-key=${API_KEY}`], {}],
    ["a bad value in the environment", [], { APIGW_DIAG_HEADERS: `x-api-key: ${API_KEY}\r` }],
  ];
  it.each(errorCases)("stay out of the error line for %s", async (_what, extra, env) => {
    const r = await cli(["diagnose", `--config=${configFile}`, ...extra], env);
    expect(r.code).toBe(3);
    expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expectNoSecret(r);
  });

  it("stay out of the error line for a broken config file", async () => {
    const broken = join(dir, "broken.yaml");
    for (const text of [
      `targets:\n  - headers:\n      x-api-key: { value: "${API_KEY}\n`,
      `targets:\n  - headers:\n      x-api-key: ${API_KEY}: x\n`,
      `targets:\n  - headers:\n      x-api-key: [${API_KEY}]\n`,
      JSON.stringify({
        targets: [
          {
            endpoint: DEFAULT_ENDPOINT,
            apiId: DEFAULT_API_ID,
            stages: ["p"],
            headers: { "x-t": { value: `${CUSTOM}\u0007`, secret: true } },
          },
        ],
      }),
    ]) {
      writeFileSync(broken, text);
      const r = await cli(["diagnose", `--config=${broken}`]);
      expect(r.code).toBe(3);
      expectNoSecret(r);
    }
  });
});
