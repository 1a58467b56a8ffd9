import { after, before } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import type { ChangeEvent, RowEvent } from '../../../src/model/change-event.js';
import type { Checkpoint } from '../../../src/model/checkpoint.js';
import type { BatchLimits, PipelineSpec } from '../../../src/model/pipeline-spec.js';
import type { TableSchema } from '../../../src/model/table-schema.js';
import type { BatchSink, CaptureContext, CaptureOutcome } from '../../../src/sources/source-connector.js';
import { PostgresSource } from '../../../src/sources/postgres/postgres-source.js';

/** Integration tests use their own database on the local server (created when missing). */
export const TEST_DB = process.env.DUCKTAIL_PG_TEST_DB ?? 'ducktail_test';
const base = { host: process.env.PGHOST ?? '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), user: process.env.PGUSER ?? 'postgres' };

export async function ensureTestDatabase(): Promise<void> {
  const admin = new pg.Client({ ...base, database: 'postgres' });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEST_DB]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${TEST_DB}`);
  } finally {
    await admin.end();
  }
}

export async function sql(): Promise<pg.Client> {
  const c = new pg.Client({ ...base, database: TEST_DB });
  await c.connect();
  return c;
}

let counter = 0;
/** A unique lowercase name for slots, publications, schemas and tables of one test. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
}

export const LIMITS: BatchLimits = { maxRows: 1000, maxBytes: 64 * 1024 * 1024, maxWaitMs: 300, idleWaitMs: 700 };

export function makeSpec(name: string, tables: string[], overrides: Partial<PipelineSpec> = {}): PipelineSpec {
  return {
    name,
    source: { kind: 'postgres', ...base, database: TEST_DB, tables, slot: name, publication: name, ssl: false },
    destination: { path: '/nonexistent.duckdb' },
    mode: 'merge',
    keyless: 'error',
    batch: LIMITS,
    snapshot: { enabled: true, chunkRows: 1000 },
    ...overrides,
  };
}

export const logger = pino({ level: process.env.DUCKTAIL_LOG_LEVEL ?? 'silent' });

export function newSource(spec: PipelineSpec): PostgresSource {
  return new PostgresSource(spec, { logger });
}

/** A BatchSink that keeps everything in memory. */
export class RecordingSink implements BatchSink {
  readonly schemas: TableSchema[] = [];
  readonly written: ChangeEvent[] = [];
  bytes = 0;

  get events(): number {
    return this.written.length;
  }

  get rows(): RowEvent[] {
    return this.written.filter((e): e is RowEvent => e.op !== 'truncate');
  }

  private readonly changed = new Set<string>();

  accepts(schema: TableSchema): boolean {
    const current = this.schemas.findLast((s) => s.table === schema.table);
    return !this.changed.has(schema.table) || JSON.stringify(current) === JSON.stringify(schema);
  }

  hasChanges(table: string): boolean {
    return this.changed.has(table);
  }

  readonly tablesDeclared: TableSchema[] = [];
  readonly discarded: { table: string; position: string }[] = [];

  discardSnapshot(table: string, position: string): void {
    this.discarded.push({ table, position });
  }

  readonly backfills: { table: string; mark: 'begin' | 'end'; position?: string }[] = [];
  beginBackfill(table: string): void {
    this.backfills.push({ table, mark: 'begin' });
  }

  endBackfill(table: string, _key: string[], position: string): void {
    this.backfills.push({ table, mark: 'end', position });
  }

  declareTable(schema: TableSchema): void {
    if (this.changed.has(schema.table)) throw new Error(`${schema.table}: shape after rows in one batch`);
    this.setSchema(schema);
    this.tablesDeclared.push(schema);
  }

  readonly renames: { table: string; renames: { from: string; to: string }[] }[] = [];

  renameColumns(table: string, renames: { from: string; to: string }[]): void {
    if (this.changed.has(table)) throw new Error(`${table}: rename after rows in one batch`);
    this.renames.push({ table, renames });
  }

  setSchema(schema: TableSchema): void {
    this.schemas.push(schema);
  }

  write(event: ChangeEvent): Promise<void> {
    if (!this.schemas.some((s) => s.table === event.table)) throw new Error(`no schema for ${event.table}`);
    this.changed.add(event.table);
    this.written.push(event);
    this.bytes += JSON.stringify(event).length;
    return Promise.resolve();
  }
}

export const ctx: CaptureContext = { heartbeat: () => undefined, signal: new AbortController().signal };

/** One capture into a fresh recording sink. */
export async function captureOnce(
  source: PostgresSource,
  from: Checkpoint,
  limits: Partial<BatchLimits> = {},
): Promise<CaptureOutcome & { sink: RecordingSink }> {
  const sink = new RecordingSink();
  const outcome = await source.capture(from, sink, { ...LIMITS, ...limits }, ctx);
  return { ...outcome, sink };
}

/** Captures (acknowledging nothing) until `want` row events arrived or `tries` captures came back. */
export async function captureUntil(source: PostgresSource, from: Checkpoint, want: number, tries = 10): Promise<{ to: Checkpoint; events: ChangeEvent[]; schemaChanges: string[] }> {
  let at = from;
  const events: ChangeEvent[] = [];
  const schemaChanges: string[] = [];
  for (let i = 0; i < tries && events.length < want; i++) {
    const r = await captureOnce(source, at);
    events.push(...r.sink.written);
    schemaChanges.push(...r.schemaChanges);
    at = r.to;
  }
  return { to: at, events, schemaChanges };
}

/** Drops the slot and publication even when a test failed half-way. */
export async function cleanup(source: PostgresSource | null): Promise<void> {
  await source?.teardown().catch(() => undefined);
  await source?.close().catch(() => undefined);
}

export function valuesOf(events: ChangeEvent[]): { op: string; values: (string | null | undefined)[] }[] {
  return events.map((e) => ({ op: e.op, values: e.op === 'truncate' ? [] : e.values }));
}

/** Drops the tables this test process created (names from `uniqueName` carry the pid). */
export async function dropOwnTables(db: pg.Client): Promise<void> {
  const res = await db.query<{ t: string }>(
    `SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE tablename LIKE 'dt\\_%' AND tablename LIKE $1`,
    [`%\\_${process.pid}\\_%`],
  );
  for (const { t } of res.rows) await db.query(`DROP TABLE IF EXISTS ${t} CASCADE`);
}

/**
 * Registers before/after hooks (call inside `describe`): a connection to the test database, and
 * afterwards cleanup of every source pushed to `sources` and of the tables the file created.
 */
export function sourceSuite(): { readonly db: pg.Client; sources: PostgresSource[] } {
  const suite = { db: undefined as unknown as pg.Client, sources: [] as PostgresSource[] };
  before(async () => {
    await ensureTestDatabase();
    suite.db = await sql();
  });
  after(async () => {
    for (const s of suite.sources) await cleanup(s);
    await dropOwnTables(suite.db);
    await suite.db.end();
  });
  return suite;
}
