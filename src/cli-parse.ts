// A command line parsed by yargs-parser alone, the parser yargs itself runs, for the common case:
// known options with valid values. yargs then adds its validation (strict, choices), help and
// messages, and costs 30-45 ms of a one-shot's start (docs/performance.md). Anything this does
// not recognise as plainly valid (help, version, an unknown option, a positional argument, a
// value outside its choices, a parser error) is handed back, and yargs parses it as before: so
// every message, and every accepted command line's result, is yargs' own
// (test/cli-parse.test.ts compares the two).
import type { Argv, Options } from "yargs";
import type { Options as ParserOptions } from "yargs-parser";

/** The options a builder declares, recorded without yargs. */
export function declaredOptions(build: (y: Argv) => Argv): Map<string, Options> {
  const options = new Map<string, Options>();
  const recorder = {
    option(key: string, o: Options) {
      options.set(key, o);
      return recorder;
    },
  };
  build(recorder as unknown as Argv);
  return options;
}

const camelCase = (key: string) => key.replace(/-+([^-])/g, (_, c: string) => c.toUpperCase());

/**
 * `argv` as yargs would parse it with these options and `scriptName`, or undefined when yargs
 * must see it.
 */
export async function parseWithoutYargs(
  argv: string[],
  options: Map<string, Options>,
  scriptName: string,
): Promise<Record<string, unknown> | undefined> {
  const { default: parser } = await import("yargs-parser");
  const config = {
    string: [] as string[],
    number: [] as string[],
    boolean: [] as string[],
    array: [] as string[],
    default: {} as Record<string, unknown>,
  } satisfies ParserOptions;
  for (const [key, o] of options) {
    if (o.type === "string") config.string.push(key);
    else if (o.type === "number") config.number.push(key);
    else if (o.type === "boolean") config.boolean.push(key);
    else if (o.type !== undefined) return undefined; // a kind this does not know: yargs
    if (o.array) config.array.push(key);
    if ("default" in o) config.default[key] = o.default;
  }
  // yargs' own configuration for its parser: "populate--" on (what follows `--` is kept apart).
  const parsed = parser.detailed(argv, { ...config, configuration: { "populate--": true } });
  if (parsed.error) return undefined;
  const args = parsed.argv as Record<string, unknown>;
  const known = new Set(["_", ...[...options.keys()].flatMap((k) => [k, camelCase(k)])]);
  for (const key of Object.keys(args)) if (!known.has(key)) return undefined; // --help, -h, typos
  // `--apiId` for `--api-id`: yargs fills both spellings, yargs-parser only the one given.
  for (const key of options.keys())
    if (args[camelCase(key)] !== undefined && args[key] === undefined) return undefined;
  if (args._ instanceof Array && args._.length > 0) return undefined; // strict: no positionals
  for (const [key, o] of options) {
    if (!o.choices || args[key] === undefined) continue;
    const values: unknown[] = Array.isArray(args[key]) ? args[key] : [args[key]];
    if (!values.every((v) => (o.choices as unknown[]).includes(v))) return undefined;
  }
  args.$0 = scriptName;
  return args;
}
