// A CommonJS package's exports, however it was imported with import(): Node gives them as the
// namespace's `default` (and, where its lexer finds them, as named exports too); a chunk of our own
// bundle (esbuild, code splitting) gives them as `default` only. An ES module package has no
// `default` of that kind: its namespace is the exports.
export function exportsOf<T extends object>(namespace: T): T {
  const fallback = (namespace as { default?: unknown }).default;
  return fallback && typeof fallback === "object" ? (fallback as T) : namespace;
}
