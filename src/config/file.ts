// Reading and validating a config file: YAML (a superset of JSON) checked against the schema.
// Its own module, loaded only when a config file is given: yaml and zod are a good part of a
// one-shot run's start-up.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { UsageError } from "../types.js";
import { configSchema, describeIssues, type FileConfig } from "./schema.js";

export function readConfigFile(file: string): FileConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(
      `config ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
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
