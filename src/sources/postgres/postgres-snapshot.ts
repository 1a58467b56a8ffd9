import type pg from 'pg';
import type { SnapshotProgress, TableSnapshotProgress } from '../../model/checkpoint.js';
import { splitTableName } from '../../model/table-schema.js';
import type { SnapshotBudget } from '../batch-rules.js';
import type { ChunkRows } from '../backfill.js';
import type { BatchSink, CaptureContext } from '../source-connector.js';
import type { CatalogTable, PgCatalog, PgTable } from './postgres-catalog.js';
import { quoteIdent, quoteLiteral, quoteTable, TEXT_TYPES } from './postgres-connection.js';
import type { SchemaTracker } from '../schema-tracker.js';
import { SnapshotOutdatedError } from '../snapshot-outdated.js';

export interface SnapshotChunkInput {
  client: pg.Client;
  catalog: PgCatalog;
  schemas: SchemaTracker;
  progress: SnapshotProgress;
  sink: BatchSink;
  budget: SnapshotBudget;
  /** The slot's exported snapshot, held by this process. */
  exportedSnapshot: string;
  ctx: CaptureContext;
}

/**
 * Copies the next rows of the first unfinished tables (keyset pagination on the primary key, or
 * ranges of heap pages for keyless tables) inside the slot's exported snapshot, as far as the
 * budget allows, and returns the updated progress. Throws when the exported snapshot is gone (the
 * capture then starts over).
 */
export async function copySnapshotChunk(input: SnapshotChunkInput): Promise<{ progress: SnapshotProgress; schemaChanges: string[] }> {
  const progress: SnapshotProgress = structuredClone(input.progress);
  const schemaChanges: string[] = [];
  const { budget } = input;
  for (;;) {
    const entry = progress.tables.find((t) => !t.done);
    if (entry === undefined || budget.exhausted() || input.ctx.signal.aborted) break;
    const { schema, name } = splitTableName(entry.table);
    const rowsBefore = entry.rows;
    // Catalog rows read inside the snapshot are the catalog as of the snapshot: the table is
    // copied under the shape it had then, which the stream continues from.
    const existed = await inSnapshot(input.client, input.exportedSnapshot, async () => {
      const table = await input.catalog.table(schema, name);
      if (table === null) return false;
      await refuseRewritten(input.client, entry.table, table.oid);
      const built = await input.catalog.build(entry.table, table.oid, table.columns, table.primaryKey);
      schemaChanges.push(...input.schemas.declare(input.sink, built.schema));
      try {
        await (table.primaryKey.length > 0 ? readKeyed(input, table, built, entry, budget.rowsLeft()) : readPages(input, table, built, entry, budget.rowsLeft()));
      } catch (e) {
        // 42703: a column the table had at the snapshot is renamed or dropped by now.
        if ((e as { code?: string }).code === '42703') throw new SnapshotOutdatedError(entry.table, 'a column was renamed or dropped');
        throw e;
      }
      return true;
    });
    if (!existed) {
      entry.done = true; // created after the snapshot point: the stream brings all of it
      continue;
    }
    budget.copied(entry.rows - rowsBefore);
  }
  return { progress, schemaChanges };
}

/** Runs `read` in a REPEATABLE READ transaction on the exported snapshot; throws when that snapshot is gone. */
async function inSnapshot<T>(client: pg.Client, snapshot: string, read: () => Promise<T>): Promise<T> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    // Must be the first statement of the transaction (no savepoint allowed before it).
    await client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshot)}`);
    const result = await read();
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** Throws when the table's storage was replaced after the snapshot (TRUNCATE, a rewriting ALTER): its rows are invisible to the snapshot. */
async function refuseRewritten(client: pg.Client, table: string, oid: number): Promise<void> {
  const res = await client.query<{ rewritten: boolean | null }>(
    'SELECT c.relfilenode <> pg_relation_filenode(c.oid) AS rewritten FROM pg_class c WHERE c.oid = $1',
    [oid],
  );
  if (res.rows[0]?.rewritten === true) throw new SnapshotOutdatedError(table, 'rewritten or truncated');
}

async function emit(input: SnapshotChunkInput, built: PgTable, entry: TableSnapshotProgress, row: string[]): Promise<void> {
  await input.sink.write({
    op: 'snapshot',
    table: entry.table,
    position: input.progress.startPosition.kind === 'pg' ? input.progress.startPosition.lsn : '',
    commitTs: null,
    seq: entry.rows,
    values: built.columns.map((c, i) => {
      const v = row[i];
      return v === null || v === undefined ? null : c.convert(v);
    }),
  });
  entry.rows++;
}

async function readKeyed(input: SnapshotChunkInput, table: CatalogTable, built: PgTable, entry: TableSnapshotProgress, limit: number): Promise<void> {
  const cols = table.columns.map((c) => quoteIdent(c.name)).join(', ');
  const keyIdx = table.primaryKey.map((k) => table.columns.findIndex((c) => c.name === k));
  const keyCols = table.primaryKey.map(quoteIdent).join(', ');
  const casts = await Promise.all(keyIdx.map((i, n) => input.catalog.formatType(table.columns[i]?.typeOid ?? 0, -1).then((t) => `$${n + 1}::${t}`)));
  const after = entry.lastKey === undefined ? '' : `WHERE (${keyCols}) > (${casts.join(', ')})`;
  const res = await input.client.query<string[]>({
    text: `SELECT ${cols} FROM ${quoteTable(table.schema, table.name)} ${after} ORDER BY ${keyCols} LIMIT ${limit}`,
    values: entry.lastKey ?? [],
    rowMode: 'array',
    types: TEXT_TYPES,
  });
  for (const row of res.rows) {
    if (input.budget.overBytes() || input.ctx.signal.aborted) return;
    await emit(input, built, entry, row);
    entry.lastKey = keyIdx.map((i) => row[i] ?? null);
  }
  if (res.rows.length < limit) entry.done = true;
}

// Keyless tables: page ranges via TID range scans (bounded memory, no sort); lastKey = [next page].
async function readPages(input: SnapshotChunkInput, table: CatalogTable, built: PgTable, entry: TableSnapshotProgress, limit: number): Promise<void> {
  const stats = await input.client.query<{ pages: string; per_page: string }>(
    `SELECT pg_relation_size($1::oid) / current_setting('block_size')::int AS pages,
            CASE WHEN relpages > 0 AND reltuples > 0 THEN reltuples / relpages ELSE 100 END AS per_page
       FROM pg_class WHERE oid = $1::oid`,
    [table.oid],
  );
  const pages = Number(stats.rows[0]?.pages ?? 0);
  const first = Number(entry.lastKey?.[0] ?? 0);
  const span = Math.max(1, Math.floor(limit / Math.max(1, Number(stats.rows[0]?.per_page ?? 100))));
  const end = first + span;
  const cols = table.columns.map((c) => quoteIdent(c.name)).join(', ');
  const res = await input.client.query<string[]>({
    text: `SELECT ${cols} FROM ${quoteTable(table.schema, table.name)} WHERE ctid >= '(${first},0)'::tid AND ctid < '(${end},0)'::tid`,
    rowMode: 'array',
    types: TEXT_TYPES,
  });
  for (const row of res.rows) await emit(input, built, entry, row);
  entry.lastKey = [String(end)];
  if (end >= pages) entry.done = true;
}

/**
 * The next rows of `table` after `lastKey` in primary-key order (an incremental copy's chunk, see
 * src/sources/backfill.ts), read now in their own statement, as the stream's events carry them.
 * Null when the table is gone or has no primary key.
 */
export async function readBackfillChunk(
  client: pg.Client,
  catalog: PgCatalog,
  table: string,
  lastKey: (string | null)[] | undefined,
  limit: number,
  /** Only these keys (a repair), all in one chunk. */
  keys?: string[][],
): Promise<{ built: PgTable; chunk: ChunkRows } | { missing: string }> {
  const { schema, name } = splitTableName(table);
  const found = await catalog.table(schema, name);
  if (found === null) return { missing: 'the table no longer exists at the source' };
  if (found.primaryKey.length === 0) return { missing: 'the table has no primary key, so it cannot be copied in key order' };
  const built = await catalog.build(table, found.oid, found.columns, found.primaryKey);
  const cols = found.columns.map((c) => quoteIdent(c.name)).join(', ');
  const keyIdx = found.primaryKey.map((k) => found.columns.findIndex((c) => c.name === k));
  const keyCols = found.primaryKey.map(quoteIdent).join(', ');
  const casts = await Promise.all(keyIdx.map((i, n) => catalog.formatType(found.columns[i]?.typeOid ?? 0, -1).then((t) => `$${n + 1}::${t}`)));
  const types = casts.map((c) => c.slice(c.indexOf('::')));
  const listed = keys === undefined || keys.length === 0 ? null : keys;
  const where =
    listed !== null
      ? `WHERE (${keyCols}) IN (${listed.map((_, r) => `(${types.map((t, n) => `$${r * types.length + n + 1}${t}`).join(', ')})`).join(', ')})`
      : lastKey === undefined
        ? ''
        : `WHERE (${keyCols}) > (${casts.join(', ')})`;
  const res = await client.query<string[]>({
    text: `SELECT ${cols} FROM ${quoteTable(schema, name)} ${where} ORDER BY ${keyCols}${listed === null ? ` LIMIT ${limit}` : ''}`,
    values: listed?.flat() ?? lastKey ?? [],
    rowMode: 'array',
    types: TEXT_TYPES,
  });
  const last = res.rows.at(-1);
  const rows = res.rows.map((row) => built.columns.map((c, i) => {
    const v = row[i];
    return v === null || v === undefined ? null : c.convert(v);
  }));
  const chunk: ChunkRows = { schema: built.schema, rows, lastKey: last === undefined ? lastKey : keyIdx.map((i) => last[i] ?? null), last: listed !== null || res.rows.length < limit };
  if (lastKey === undefined && listed === null) {
    const est = await client.query<{ n: string }>('SELECT GREATEST(reltuples, 0)::bigint::text AS n FROM pg_class WHERE oid = $1', [found.oid]);
    chunk.estimate = Math.max(Number(est.rows[0]?.n ?? 0), res.rows.length);
  }
  return { built, chunk };
}

/**
 * Waits until every transaction that was writing `table` when the chunk's low watermark committed
 * has ended, so the chunk's read sees all of those that committed before the watermark. (A
 * committing transaction's commit record can precede the watermark's while it is not yet visible
 * to new snapshots; it holds its table lock until it is.) Takes a SHARE lock and lets go at once,
 * waiting at most `timeoutMs`: 'busy' when a transaction kept writing the table that long.
 * 'denied' without the privilege to lock the table (UPDATE, DELETE or TRUNCATE).
 */
export async function waitForWriters(client: pg.Client, table: string, timeoutMs: number): Promise<'ok' | 'busy' | 'denied'> {
  const { schema, name } = splitTableName(table);
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
    await client.query(`LOCK TABLE ${quoteTable(schema, name)} IN SHARE MODE`);
    await client.query('COMMIT');
    return 'ok';
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    const code = (e as { code?: string }).code;
    if (code === '55P03') return 'busy';
    if (code === '42501') return 'denied';
    throw e;
  }
}
