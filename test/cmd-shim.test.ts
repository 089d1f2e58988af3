// What npm makes of the bin on Windows: npm's own cmd-shim, run on the file package.json's `bin`
// names, in npm's layout (node_modules/.bin beside the package), and the .cmd and .ps1 it writes.
// The bin must be a plain `#!/usr/bin/env node`: a flag there reaches every launcher, and
// `env -S` is not on every Unix. While the bin still carries a flag, a plain copy is checked too.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const cmdShim = require("cmd-shim") as (from: string, to: string) => Promise<void>;

const PLAIN = "#!/usr/bin/env node";
const pkg = JSON.parse(await readFile("package.json", "utf8")) as { bin: Record<string, string> };
const [[name, bin]] = Object.entries(pkg.bin) as [[string, string]];
const source = await readFile(bin, "utf8");
const firstLine = source.split("\n")[0] ?? "";
/** The flags the shebang passes node today (`#!/usr/bin/env -S node --flag`), "" when plain. */
const flags = firstLine.replace(/^#!\/usr\/bin\/env\s+(-S\s+)?node/, "").trim();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "apigw-shim-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The launchers npm would write for a package whose bin holds `text`. */
async function shims(text: string): Promise<{ cmd: string; ps1: string }> {
  const root = await mkdtemp(path.join(dir, "pkg-"));
  const target = path.join(root, bin);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, text);
  const to = path.join(root, "node_modules", ".bin", name);
  await cmdShim(target, to);
  const [cmd, ps1] = await Promise.all([
    readFile(`${to}.cmd`, "utf8"),
    readFile(`${to}.ps1`, "utf8"),
  ]);
  return { cmd, ps1 };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const winTarget = `"%dp0%\\..\\..\\${bin.replaceAll("/", "\\")}"`;
const psTarget = `"$basedir/../../${bin}"`;

/** The .cmd and .ps1 run node (beside them or on PATH) on the bin, with `args` and the user's. */
function expectLaunchers({ cmd, ps1 }: { cmd: string; ps1: string }, args: string): void {
  expect(cmd).toContain('SET "_prog=%dp0%\\node.exe"');
  expect(cmd).toContain('SET "_prog=node"');
  // Exactly `args` between the program and the bin (cmd-shim pads with spaces).
  const between = args ? `\\s+${escape(args)}\\s+` : "\\s+";
  expect(cmd).toMatch(new RegExp(`"%_prog%"${between}${escape(winTarget)} %\\*\\r?\\n?$`));
  for (const node of ['"$basedir/node$exe"', '"node$exe"'])
    expect(ps1).toMatch(new RegExp(`& ${escape(node)}${between}${escape(psTarget)} \\$args\\n`));
}

describe(`npm's Windows launchers for the bin (${bin})`, () => {
  it(`run node on it${flags ? ` (today with the shebang's ${flags})` : ", with no flag"}`, async () => {
    expect(firstLine).toMatch(/^#!\/usr\/bin\/env\s+(-S\s+)?node(\s|$)/);
    expectLaunchers(await shims(source), flags);
  });

  it.runIf(firstLine !== PLAIN)(
    "run node on it with no flag once the first line is plain",
    async () => {
      const plain = source.replace(firstLine, PLAIN);
      expectLaunchers(await shims(plain), "");
    },
  );
});
