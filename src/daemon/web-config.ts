// The daemon's door: the web configuration file of Prometheus exporters (exporter-toolkit's
// format, read by node_exporter and blackbox_exporter through --web.config.file), so that an
// operator's existing file works unchanged. Read and checked whole at start and on SIGHUP: a file
// that does not load is refused with one line, and nothing of it is used.
import { X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { exportsOf } from "../interop.js";
import { UsageError } from "../types.js";

/** exporter-toolkit's client_auth_type values (Go's crypto/tls ClientAuthType names). */
export const CLIENT_AUTH_TYPES = [
  "NoClientCert",
  "RequestClientCert",
  "RequireAnyClientCert",
  "VerifyClientCertIfGiven",
  "RequireAndVerifyClientCert",
] as const;
export type ClientAuth = (typeof CLIENT_AUTH_TYPES)[number];

export interface WebTls {
  /** What node:tls is given: PEM texts read from the files, versions, curves, ciphers. */
  context: SecureContextOptions & { cert: string; key: string };
  clientAuth: ClientAuth;
  /** A client certificate must carry one of these SANs (DNS, IP, e-mail or URI), if given. */
  allowedSans?: string[];
}

export interface WebConfig {
  file: string;
  /** Absent: plain HTTP, as exporter-toolkit serves without tls_server_config. */
  tls?: WebTls;
  /** User name -> bcrypt hash; empty: no basic auth. */
  users: Map<string, string>;
  /** Paths answered without basic auth (exporter-toolkit's basic_auth_excluded_paths). */
  excludedPaths: string[];
  /** Response headers for every answer, names as written in the file. */
  headers: [string, string][];
  rateLimit?: { intervalMs: number; burst: number };
}

/** The headers exporter-toolkit lets a file set, with the values it accepts (none: any). */
const HEADERS: Record<string, string[] | undefined> = {
  "Strict-Transport-Security": undefined,
  "X-Content-Type-Options": ["nosniff"],
  "X-Frame-Options": ["deny", "sameorigin"],
  "X-XSS-Protection": undefined,
  "Content-Security-Policy": undefined,
};

const TLS_VERSIONS = {
  TLS10: "TLSv1",
  TLS11: "TLSv1.1",
  TLS12: "TLSv1.2",
  TLS13: "TLSv1.3",
} as const;
type TlsVersionName = keyof typeof TLS_VERSIONS;

/** Go's curve names and OpenSSL's. */
const CURVES: Record<string, string> = {
  CurveP256: "P-256",
  CurveP384: "P-384",
  CurveP521: "P-521",
  X25519: "X25519",
};

/**
 * Go's names (IANA's) of the TLS 1.2 suites crypto/tls offers, and OpenSSL's. TLS 1.3's suites
 * are not configurable in Go either.
 */
const CIPHERS: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
  TLS_RSA_WITH_AES_128_GCM_SHA256: "AES128-GCM-SHA256",
  TLS_RSA_WITH_AES_256_GCM_SHA384: "AES256-GCM-SHA384",
  TLS_RSA_WITH_AES_128_CBC_SHA: "AES128-SHA",
  TLS_RSA_WITH_AES_256_CBC_SHA: "AES256-SHA",
};

const TLS_KEYS = [
  "cert",
  "key",
  "client_ca",
  "cert_file",
  "key_file",
  "client_auth_type",
  "client_ca_file",
  "client_allowed_sans",
  "min_version",
  "max_version",
  "cipher_suites",
  "prefer_server_cipher_suites",
  "curve_preferences",
];
const TOP_KEYS = [
  "tls_server_config",
  "http_server_config",
  "basic_auth_users",
  "basic_auth_excluded_paths",
  "rate_limit",
];

/** bcrypt as htpasswd, Go and bcryptjs write it: $2a$, $2b$ or $2y$, a cost, 53 characters. */
const BCRYPT = /^\$2[aby]?\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/** A file or a certificate larger than this is not a web config. */
const MAX_FILE_BYTES = 1024 * 1024;
/** A file on a stalled mount must not stall the start or a reload. */
const READ_TIMEOUT_MS = 10_000;

/** The daemon's web config, when one is named. */
export async function webConfigOf(file: string | undefined): Promise<WebConfig | undefined> {
  return file === undefined ? undefined : loadWebConfig(file);
}

/** Reads and checks the file and every file it names; a UsageError names what is wrong. */
export async function loadWebConfig(file: string): Promise<WebConfig> {
  const text = await readBounded(file, file, "");
  const raw = await parseYamlText(text, file);
  const dir = path.dirname(path.resolve(file));
  return buildWebConfig(raw, file, (name, field) =>
    readBounded(path.resolve(dir, name), file, field),
  );
}

async function parseYamlText(text: string, file: string): Promise<unknown> {
  // yaml only when a web config is given: a daemon without one does not hold it.
  const { parse } = exportsOf(await import("yaml"));
  try {
    return parse(text, { maxAliasCount: 100 }) ?? {};
  } catch (err) {
    throw new UsageError(
      `web config ${file}: not valid YAML: ${(err as Error).message.split("\n")[0]}`,
    );
  }
}

type ReadFile = (name: string, field: string) => Promise<string>;

/** Exported for the tests: `raw` as YAML parsed it. */
export async function buildWebConfig(
  raw: unknown,
  file: string,
  read: ReadFile,
): Promise<WebConfig> {
  const fail = (where: string, problem: string): never => {
    throw new UsageError(`web config ${file}: ${where}: ${problem}`);
  };
  const top = record(raw, "(top level)", fail);
  unknownKeys(top, TOP_KEYS, "", fail);
  const http =
    top.http_server_config === undefined
      ? {}
      : record(top.http_server_config, "http_server_config", fail);
  unknownKeys(http, ["http2", "headers"], "http_server_config.", fail);
  if (http.http2 !== undefined && typeof http.http2 !== "boolean")
    fail("http_server_config.http2", "true or false");
  return {
    file,
    tls: top.tls_server_config == null ? undefined : await tlsOf(top.tls_server_config, read, fail),
    users: usersOf(top.basic_auth_users, fail),
    excludedPaths:
      stringList(top.basic_auth_excluded_paths, "basic_auth_excluded_paths", fail) ?? [],
    headers: headersOf(http.headers, fail),
    rateLimit: rateLimitOf(top.rate_limit, fail),
  };
}

type Fail = (where: string, problem: string) => never;

async function tlsOf(value: unknown, read: ReadFile, fail: Fail): Promise<WebTls | undefined> {
  const t = record(value, "tls_server_config", fail);
  unknownKeys(t, TLS_KEYS, "tls_server_config.", fail);
  const s = (key: string): string | undefined => {
    const v = t[key];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") return fail(`tls_server_config.${key}`, "a string");
    return v;
  };
  // An empty tls_server_config means no TLS, as exporter-toolkit's IsEnabled decides.
  const enabled = [
    "cert",
    "key",
    "client_ca",
    "cert_file",
    "key_file",
    "client_ca_file",
    "client_auth_type",
  ];
  if (!enabled.some((k) => s(k) !== undefined)) return undefined;
  const pem = async (inline: string, fileKey: string): Promise<string | undefined> => {
    if (s(inline) !== undefined && s(fileKey) !== undefined)
      fail(`tls_server_config.${inline}`, `give ${inline} or ${fileKey}, not both`);
    const name = s(fileKey);
    return name === undefined ? s(inline) : read(name, `tls_server_config.${fileKey}`);
  };
  const cert =
    (await pem("cert", "cert_file")) ??
    fail("tls_server_config", "missing one of cert or cert_file");
  const key =
    (await pem("key", "key_file")) ?? fail("tls_server_config", "missing one of key or key_file");
  const ca = await pem("client_ca", "client_ca_file");
  const clientAuth = (s("client_auth_type") ?? "NoClientCert") as string;
  // RequireClientCert: exporter-toolkit keeps the old name for RequireAnyClientCert.
  const auth = clientAuth === "RequireClientCert" ? "RequireAnyClientCert" : clientAuth;
  if (!(CLIENT_AUTH_TYPES as readonly string[]).includes(auth))
    fail(
      "tls_server_config.client_auth_type",
      `${JSON.stringify(clientAuth)} is not one of ${CLIENT_AUTH_TYPES.join(", ")}`,
    );
  if (ca !== undefined && auth === "NoClientCert")
    fail(
      "tls_server_config.client_ca_file",
      "a client CA without client_auth_type (RequireAndVerifyClientCert)",
    );
  // Without a client CA, Go (and Node) verify client certificates against the system's roots.
  if (ca !== undefined) checkCertificates(ca, "tls_server_config.client_ca_file", fail);
  const allowedSans = stringList(
    t.client_allowed_sans,
    "tls_server_config.client_allowed_sans",
    fail,
  );
  if (allowedSans && auth !== "RequireAnyClientCert" && auth !== "RequireAndVerifyClientCert")
    fail(
      "tls_server_config.client_allowed_sans",
      "needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert",
    );
  const context: WebTls["context"] = {
    cert,
    key,
    ca,
    minVersion: TLS_VERSIONS[version(s("min_version") ?? "TLS12", "min_version", fail)],
    maxVersion: TLS_VERSIONS[version(s("max_version") ?? "TLS13", "max_version", fail)],
    honorCipherOrder: t.prefer_server_cipher_suites !== false,
  };
  const ciphers = stringList(t.cipher_suites, "tls_server_config.cipher_suites", fail);
  if (ciphers?.length)
    context.ciphers = ciphers
      .map((c) => CIPHERS[c] ?? fail("tls_server_config.cipher_suites", `unknown cipher: ${c}`))
      .join(":");
  const curves = stringList(t.curve_preferences, "tls_server_config.curve_preferences", fail);
  if (curves?.length)
    context.ecdhCurve = curves
      .map((c) => CURVES[c] ?? fail("tls_server_config.curve_preferences", `unknown curve: ${c}`))
      .join(":");
  try {
    // What a handshake will use, made once now: a key that does not match its certificate, an
    // unreadable PEM or versions the wrong way round are refused here, not at the first client.
    createSecureContext(context);
  } catch (err) {
    fail("tls_server_config", (err as Error).message.split("\n")[0] ?? "unusable");
  }
  return { context, clientAuth: auth as ClientAuth, allowedSans };
}

function version(name: string, key: string, fail: Fail): TlsVersionName {
  if (name in TLS_VERSIONS) return name as TlsVersionName;
  return fail(
    `tls_server_config.${key}`,
    `${JSON.stringify(name)} is not one of ${Object.keys(TLS_VERSIONS).join(", ")}`,
  );
}

function checkCertificates(pem: string, where: string, fail: Fail): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) fail(where, "no PEM certificate in it");
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      fail(where, "a certificate in it does not parse");
    }
  }
}

function usersOf(value: unknown, fail: Fail): Map<string, string> {
  const users = new Map<string, string>();
  if (value === undefined || value === null) return users;
  for (const [user, hash] of Object.entries(record(value, "basic_auth_users", fail))) {
    if (typeof hash !== "string") fail(`basic_auth_users.${user}`, "a bcrypt hash (a string)");
    const cost = BCRYPT.exec(hash as string)?.[1];
    if (!cost || Number(cost) < 4 || Number(cost) > 31)
      fail(
        `basic_auth_users.${user}`,
        "not a bcrypt hash (htpasswd -nBC 10 \"\" | tr -d ':\\n' makes one)",
      );
    if (user.includes(":")) fail(`basic_auth_users.${user}`, "a user name cannot hold ':'");
    users.set(user, hash as string);
  }
  return users;
}

function headersOf(value: unknown, fail: Fail): [string, string][] {
  if (value === undefined || value === null) return [];
  const out: [string, string][] = [];
  for (const [name, v] of Object.entries(record(value, "http_server_config.headers", fail))) {
    if (!(name in HEADERS))
      fail(
        "http_server_config.headers",
        `HTTP header ${JSON.stringify(name)} can not be configured`,
      );
    if (typeof v !== "string") fail(`http_server_config.headers.${name}`, "a string");
    const allowed = HEADERS[name];
    if (allowed && !allowed.includes(v as string))
      fail(
        `http_server_config.headers.${name}`,
        `one of ${allowed.join(", ")}, not ${JSON.stringify(v)}`,
      );
    // Blank: unset, as exporter-toolkit documents.
    if (v !== "") out.push([name, v as string]);
  }
  return out;
}

function rateLimitOf(value: unknown, fail: Fail): WebConfig["rateLimit"] {
  if (value === undefined || value === null) return undefined;
  const r = record(value, "rate_limit", fail);
  unknownKeys(r, ["interval", "burst"], "rate_limit.", fail);
  const intervalMs = r.interval === undefined ? 0 : goDuration(r.interval, fail);
  const burst = r.burst ?? 0;
  if (typeof burst !== "number" || !Number.isInteger(burst) || burst < 0)
    return fail("rate_limit.burst", "a whole number");
  return intervalMs === 0 ? undefined : { intervalMs, burst };
}

/** Go's time.Duration text: `0`, `500ms`, `1s`, `1m30s`. */
function goDuration(value: unknown, fail: Fail): number {
  if (value === 0 || value === "0") return 0;
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1e3,
    m: 6e4,
    h: 3.6e6,
  };
  const text = String(value);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text)
    return fail(
      "rate_limit.interval",
      `${JSON.stringify(value)} is not a duration (1s, 500ms, 1m)`,
    );
  return parts.reduce((ms, p) => ms + Number(p[1]) * (units[p[2]!] ?? 0), 0);
}

function record(value: unknown, where: string, fail: Fail): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return fail(where, "a mapping");
  return value as Record<string, unknown>;
}

function unknownKeys(
  r: Record<string, unknown>,
  known: string[],
  prefix: string,
  fail: Fail,
): void {
  // As exporter-toolkit (yaml.UnmarshalStrict): a misspelt key is an error, not ignored.
  for (const key of Object.keys(r))
    if (!known.includes(key)) fail(`${prefix}${key}`, "unknown field");
}

function stringList(value: unknown, where: string, fail: Fail): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
    return fail(where, "a list of strings");
  return value as string[];
}

async function readBounded(name: string, file: string, field: string): Promise<string> {
  const what = field ? `web config ${file}: ${field}` : `web config ${file}`;
  const shown = field ? ` ${name}` : "";
  const work = (async () => {
    const info = await stat(name);
    if (!info.isFile()) throw new UsageError(`${what}:${shown} is not a regular file`);
    if (info.size > MAX_FILE_BYTES) throw new UsageError(`${what}:${shown} is larger than 1 MiB`);
    return readFile(name, "utf8");
  })();
  // Settled after the race was lost to the timeout: not an unhandled rejection.
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new UsageError(`${what}:${shown} not read within ${READ_TIMEOUT_MS} ms`)),
      READ_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `${what}:${shown} cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  } finally {
    clearTimeout(timer);
  }
}
