/**
 * Thrown when an initial snapshot can no longer read a table as it was at the snapshot point (a
 * column renamed, dropped or retyped since; on PostgreSQL also a table rewritten or truncated,
 * which older snapshots see as empty): the copy must start over from a new consistent point.
 */
export class SnapshotOutdatedError extends Error {
  constructor(
    readonly table: string,
    readonly why: string,
  ) {
    super(`${table} changed at the source after the snapshot began (${why})`);
  }
}
