// Every option can come from APIGW_DIAG_* variables, the way containers are configured.
import { UsageError, type AccessMode } from "../types.js";
import type { Overrides } from "./load.js";

const list = (v: string): string[] =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
const bool = (v: string, name: string): boolean => {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new UsageError(`${name}: ${JSON.stringify(v)} is not a boolean`);
};
const int = (v: string, name: string): number => {
  if (!/^\d+$/.test(v.trim()))
    throw new UsageError(`${name}: ${JSON.stringify(v)} is not a number`);
  return Number(v);
};

export function envOverrides(
  env: NodeJS.ProcessEnv,
): Overrides & { config?: string; format?: string } {
  const get = (k: string): string | undefined => {
    const v = env[`APIGW_DIAG_${k}`];
    return v === undefined || v === "" ? undefined : v;
  };
  const o: Overrides & { config?: string; format?: string } = {};
  const set = <K extends keyof typeof o>(
    key: K,
    name: string,
    conv: (v: string, n: string) => (typeof o)[K],
  ) => {
    const v = get(name);
    if (v !== undefined) o[key] = conv(v, `APIGW_DIAG_${name}`);
  };
  set("endpoint", "ENDPOINT", (v) => v);
  set("apiId", "API_ID", (v) => v);
  set("stages", "STAGES", list);
  set("mode", "MODE", (v, n) => {
    if (v !== "header" && v !== "host" && v !== "alias" && v !== "domain")
      throw new UsageError(`${n}: header, host, alias or domain`);
    return v as AccessMode;
  });
  set("path", "PATH", (v) => v);
  set("headers", "HEADERS", (v) =>
    v.split(/\r?\n|;(?=\s*[A-Za-z0-9-]+\s*:)/).filter((s) => s.trim()),
  );
  set("expectStatus", "EXPECT_STATUS", (v, n) => list(v).map((s) => int(s, n)));
  set("resolvers", "RESOLVERS", list);
  set("port", "PORT", int);
  set("timeout", "TIMEOUT", (v) => v);
  set("caFile", "CA_FILE", (v) => v);
  set("privateCidrs", "PRIVATE_CIDRS", list);
  set("compareOs", "COMPARE_OS", bool);
  set("insecure", "INSECURE", bool);
  set("family", "FAMILY", (v, n) => {
    if (v !== "auto" && v !== "4" && v !== "6") throw new UsageError(`${n}: auto, 4 or 6`);
    return v;
  });
  set("domain", "DOMAIN", (v) => v);
  set("basePaths", "BASE_PATHS", list);
  set("compareModes", "COMPARE_MODES", bool);
  set("concurrency", "CONCURRENCY", int);
  set("expectSources", "EXPECT_SOURCES", list);
  set("expectInterfaces", "EXPECT_INTERFACES", list);
  set("aws", "AWS", bool);
  set("awsProfile", "AWS_PROFILE", (v) => v);
  set("interval", "INTERVAL", (v) => v);
  set("listen", "LISTEN", (v) => v);
  set("webConfig", "WEB_CONFIG", (v) => v);
  set("config", "CONFIG", (v) => v);
  set("format", "FORMAT", (v) => v);
  return o;
}
