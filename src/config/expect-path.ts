// `expectPath` (config), `--expect-source` / `--expect-interface` (flags) and
// APIGW_DIAG_EXPECT_SOURCES / APIGW_DIAG_EXPECT_INTERFACES: the way traffic to the endpoint must
// leave this host (Direct Connect). Checked here, once, so the path layer only compares.
import ipaddr from "ipaddr.js";
import { UsageError, type ExpectPath } from "../types.js";

/** Source ranges as CIDRs (a bare address is its own /32 or /128), and interface names. */
export function checkExpectPath(
  sources: string[] | undefined,
  interfaces: string[] | undefined,
): ExpectPath | undefined {
  const s = (sources ?? []).map(checkSource);
  const i = (interfaces ?? []).map(checkInterface);
  return s.length || i.length ? { sources: s, interfaces: i } : undefined;
}

function checkSource(source: string): string {
  if (ipaddr.isValidCIDR(source)) return source;
  if (ipaddr.isValid(source))
    return `${source}/${ipaddr.parse(source).kind() === "ipv6" ? 128 : 32}`;
  throw new UsageError(`expectPath.sources: ${JSON.stringify(source)} is not a CIDR or an address`);
}

/** Interface names as the OS lists them (Windows names hold spaces): printable, one line. */
function checkInterface(name: string): string {
  if (!/^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/.test(name))
    throw new UsageError(
      `expectPath.interfaces: ${JSON.stringify(name)} is not an interface name (1-64 printable characters)`,
    );
  return name;
}
