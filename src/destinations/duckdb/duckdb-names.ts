/**
 * DuckDB matches identifiers without regard to ASCII case (`"Mixed"` and `"mixed"` are one
 * table; `"Ä"` and `"ä"` are two), while PostgreSQL and MySQL table names are case-sensitive.
 *
 * The rule, applied to tables (within a DuckDB schema) and to columns (within a table): a source
 * name keeps its spelling unless that name is already taken, ignoring ASCII case, by another
 * object (a table or column mapped earlier, a bookkeeping column such as `__op`, or a table that
 * is not Ducktail's); then it gets the first free `<name>_2`, `<name>_3`, …. The first name seen
 * keeps its spelling, and a mapping never changes once made: it is stored in `_ducktail.tables`.
 */

/** The key under which DuckDB compares a name. */
export function nameKey(name: string): string {
  return name.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}

/** `wanted`, or the first `<wanted>_<n>` (n ≥ 2) whose key is not in `taken` (keys from `nameKey`). */
export function freeName(wanted: string, taken: ReadonlySet<string>): string {
  if (!taken.has(nameKey(wanted))) return wanted;
  for (let n = 2; ; n++) {
    const candidate = `${wanted}_${n}`;
    if (!taken.has(nameKey(candidate))) return candidate;
  }
}
