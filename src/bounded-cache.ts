/**
 * Get-or-make by key, forgetting every entry once `max` are held: a bound on what a long-lived
 * daemon keeps, not a working set (the keys it sees are a handful that change on rotation). Used
 * for trust contexts by CA content, peer chains and certificate summaries by fingerprint.
 */
export function boundedCache<K, V>(max: number): (key: K, make: () => V) => V {
  const entries = new Map<K, V>();
  return (key, make) => {
    let value = entries.get(key);
    if (value === undefined) {
      value = make();
      if (entries.size >= max) entries.clear();
      entries.set(key, value);
    }
    return value;
  };
}
