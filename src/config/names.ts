// Validation of everything that ends up in a DNS query, a TLS SNI, a request line or a header:
// anything that could inject (CR/LF, spaces, control characters) is refused here, once.
import ipaddr from "ipaddr.js";
import { UsageError, type Resolver } from "../types.js";

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

export function checkHostname(name: string, what: string): string {
  // No trimming: a stray CR/LF or space is refused, not silently repaired.
  const host = name.replace(/\.$/, "").toLowerCase();
  if (host.length === 0 || host.length > 253 || !host.split(".").every((l) => LABEL.test(l))) {
    throw new UsageError(`${what}: ${JSON.stringify(name)} is not a valid DNS name`);
  }
  return host;
}

export function checkApiId(id: string): string {
  if (!/^[a-z0-9]{10}$/.test(id)) {
    throw new UsageError(
      `api id: ${JSON.stringify(id)} is not an API Gateway id (10 lowercase letters or digits)`,
    );
  }
  return id;
}

export function checkStage(stage: string): string {
  // API Gateway stage names: letters, digits, hyphens and underscores, up to 128 characters.
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(stage)) {
    throw new UsageError(
      `stage: ${JSON.stringify(stage)} is not a valid stage name (letters, digits, - and _)`,
    );
  }
  return stage;
}

/** A path appended to /<stage>: absolute, only RFC 3986 path and query characters. */
export function checkPath(path: string): string {
  if (!/^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/.test(path)) {
    throw new UsageError(
      `path: ${JSON.stringify(path)} must start with / and contain only URL characters (percent-encode the rest)`,
    );
  }
  // "." and ".." segments (plain or percent-encoded) would climb out of /<stage> once a proxy
  // or API Gateway normalizes the path: the request would test another stage than reported.
  const segments = (path.split("?")[0] ?? "").split("/").map((seg) => seg.replace(/%2e/gi, "."));
  if (segments.some((seg) => seg === "." || seg === "..")) {
    throw new UsageError(`path: ${JSON.stringify(path)} must not contain "." or ".." segments`);
  }
  return path;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "x-apigw-api-id",
]);

export function checkHeader(name: string, value: string): { name: string; value: string } {
  const lower = name.trim().toLowerCase();
  // Not echoed: `Authorization Bearer abc:def` splits at the wrong colon, and the "name" is
  // then a secret.
  if (!TOKEN.test(lower))
    throw new UsageError(
      "header: invalid header name (letters, digits and !#$%&'*+.^_`|~- only, as in 'x-api-key: value')",
    );
  if (RESERVED.has(lower)) throw new UsageError(`header: ${lower} is set by apigw-diag itself`);
  // Visible ASCII, space and tab only: no CR/LF (header injection), no other control bytes.
  if (!/^[\t\x20-\x7e]*$/.test(value)) {
    throw new UsageError(`header ${lower}: value contains control characters or line breaks`);
  }
  return { name: lower, value: value.trim() };
}

/** `k: v` as given on the command line. */
export function parseHeaderFlag(flag: string): { name: string; value: string } {
  const colon = flag.indexOf(":");
  // Never echo the value: it may be a secret.
  if (colon <= 0) throw new UsageError("--header: expected 'name: value'");
  return checkHeader(flag.slice(0, colon), flag.slice(colon + 1));
}

export function checkPort(port: number, what = "port"): number {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new UsageError(`${what}: ${port} is not a TCP/UDP port (1-65535)`);
  }
  return port;
}

/** `10.0.0.2`, `10.0.0.2:5353`, `[fd00::2]:53` or `fd00::2`. */
export function parseResolver(input: string): Resolver {
  // No trimming, as for names: a stray CR/LF is refused, not silently repaired.
  const text = input;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const v4port = /^([\d.]+)(?::(\d+))?$/.exec(text);
  const [host, port] = bracketed
    ? [bracketed[1] ?? "", bracketed[2]]
    : v4port
      ? [v4port[1] ?? "", v4port[2]]
      : [text, undefined];
  if (!ipaddr.isValid(host)) {
    throw new UsageError(
      `resolver: ${JSON.stringify(input)} is not an IP address with an optional :port`,
    );
  }
  return {
    host: ipaddr.parse(host).toString(),
    port: checkPort(Number(port ?? 53), "resolver port"),
  };
}

export function checkCidr(cidr: string): string {
  if (!ipaddr.isValidCIDR(cidr))
    throw new UsageError(`privateCidrs: ${JSON.stringify(cidr)} is not a CIDR`);
  return cidr;
}

export interface EndpointParts {
  vpceId?: string;
  region?: string;
}

/**
 * vpce-<hex>-<suffix>[-<az>].execute-api.<region>.vpce.amazonaws.com, or in the China partition
 * (cn-north-1, cn-northwest-1) ...vpce.amazonaws.com.cn.
 */
export function parseEndpoint(endpoint: string): EndpointParts {
  const match =
    /^(vpce-[0-9a-f]+)-[0-9a-z]+(?:-[a-z0-9-]+)?\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.vpce\.amazonaws\.com(\.cn)?$/.exec(
      endpoint,
    );
  if (!match) return {};
  const [, vpceId, region, cn] = match;
  // The partition is the region's: a China region under .com, or another under .com.cn, is no
  // endpoint name.
  if (region?.startsWith("cn-") !== (cn !== undefined)) return {};
  return { vpceId, region };
}

/** The DNS domain of AWS's names in the region's partition: `amazonaws.com.cn` in China. */
export function awsDomain(region: string): string {
  return region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}

/** A target's name: a label in logs, reports and metrics, so printable and one line. */
export function checkTargetName(name: string): string {
  if (!/^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/.test(name)) {
    throw new UsageError(
      `target name: ${JSON.stringify(name)} must be 1-64 printable ASCII characters, no leading or trailing space`,
    );
  }
  return name;
}

/** A daemon listen host: an IP address, or a DNS name (localhost); empty means all. */
export function checkListenHost(host: string): string {
  if (host === "" || ipaddr.isValid(host)) return host;
  return checkHostname(host, "listen host");
}
