// Node's compile cache (Node 22.1 and later): V8's code for our modules kept on disk, so that the
// next run does not compile them again. Code read from there runs as ours, so the directory must
// be one that nobody but this user (and root) can write to or swap: never a shared /tmp directory
// that another local user could create first. A cache that cannot be had is no error: the run
// goes on without it.
// Built-ins from process.getBuiltinModule(), not imported: this module is part of the bin's own
// graph, evaluated for `--version` too (see cli.ts).
import type { Stats } from "node:fs";

const { lstatSync, mkdirSync, realpathSync, statSync } = process.getBuiltinModule("node:fs");
const path = process.getBuiltinModule("node:path");

type Enable = (directory: string) => { directory?: string };

/**
 * Turns the compile cache on for the modules loaded from now on, in `privateCacheDir()`. Nothing
 * on a Node without it; nothing when NODE_COMPILE_CACHE is set (node turned it on at start, in
 * that directory) or NODE_DISABLE_COMPILE_CACHE is. Returns the directory in use, if any.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const module = process.getBuiltinModule("node:module") as { enableCompileCache?: Enable };
  const enable = module.enableCompileCache;
  if (typeof enable !== "function" || env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE)
    return undefined;
  const dir = privateCacheDir(env);
  return dir === undefined ? undefined : enable(dir).directory;
}

/**
 * `$XDG_CACHE_HOME/apigw-diag` or `~/.cache/apigw-diag`, created 0700 if missing, when it and
 * every directory above it are safe (`safeDirectory`); undefined otherwise, and then nothing is
 * created: no home, a read-only one, another user's (sudo keeping HOME), a group-writable one.
 */
export function privateCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined; // not POSIX: no owner to check
  try {
    const xdg = env.XDG_CACHE_HOME;
    // os.homedir() reads HOME too, then the passwd entry.
    const home = env.HOME || process.getBuiltinModule("node:os").homedir();
    const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(home, ".cache");
    const wanted = path.join(base, "apigw-diag");
    // The deepest directory that exists (through any symbolic link), checked up to the root.
    let existing = wanted;
    while (!exists(existing)) existing = path.dirname(existing);
    const real = realpathSync(existing);
    for (let d = real; ; d = path.dirname(d)) {
      if (!safeDirectory(lstatSync(d), uid)) return undefined;
      if (d === path.dirname(d)) break;
    }
    // One level at a time: a recursive mkdir retries forever where mkdir says ENOENT (in /proc).
    let dir = real;
    for (const name of path.relative(existing, wanted).split(path.sep).filter(Boolean)) {
      dir = path.join(dir, name);
      mkdirSync(dir, { mode: 0o700 });
    }
    const made = lstatSync(dir);
    return made.isDirectory() && made.uid === uid && (made.mode & 0o022) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Nobody else can change what is in it: owned by this user or root, and writable by no one else,
 * unless sticky (as /tmp is), where others cannot rename or remove what they do not own.
 */
function safeDirectory(s: Stats, uid: number): boolean {
  if (!s.isDirectory() || (s.uid !== uid && s.uid !== 0)) return false;
  return (s.mode & 0o022) === 0 || (s.mode & 0o1000) !== 0;
}
