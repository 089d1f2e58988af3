// Reading and validating a config file: YAML (a superset of JSON) checked against the schema.
// Its own module, loaded only when a config file is given: yaml and zod are a good part of a
// one-shot run's start-up.
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { UsageError } from "../types.js";
import { configSchema, describeIssues, type FileConfig } from "./schema.js";

/** A config larger than this is refused, not read: no real one comes near it. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export function readConfigFile(file: string): FileConfig {
  let text: string;
  let fd: number | undefined;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is then refused below.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UsageError(`config ${file}: not a regular file`);
    if (st.size > MAX_CONFIG_BYTES) throw new UsageError(`config ${file}: too large to load`);
    text = readFileSync(fd, "utf8");
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `config ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file: string): FileConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 }); // YAML is a superset of JSON
  } catch (err) {
    const first = (err as Error).message.split("\n")[0];
    throw new UsageError(`config ${file}: not valid YAML or JSON: ${first}`);
  }
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new UsageError(`config ${file}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
