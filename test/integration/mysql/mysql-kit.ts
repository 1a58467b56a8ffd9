import mysql, { type Connection } from 'mysql2/promise';
import { pino } from 'pino';
import type { ChangeEvent } from '../../../src/model/change-event.js';
import { checkpointKey, type Checkpoint } from '../../../src/model/checkpoint.js';
import type { BatchLimits, PipelineSpec } from '../../../src/model/pipeline-spec.js';
import type { TableSchema } from '../../../src/model/table-schema.js';
import type { BatchSink, CaptureContext, CaptureOutcome } from '../../../src/sources/source-connector.js';
import { MysqlSource } from '../../../src/sources/mysql/mysql-source.js';

/** Helpers for the MariaDB integration tests: a dedicated database, unique names, a recording sink. */
export const DB = 'ducktail_test_my';
export const HOST = process.env.MYSQL_HOST ?? '127.0.0.1';
export const PORT = Number(process.env.MYSQL_PORT ?? 3306);
export const silent = pino({ level: 'silent' });

let counter = 0;
const runId = `${process.pid % 10000}_${Date.now() % 100000}`;

export function uniqueName(prefix: string): string {
  return `${prefix}_${runId}_${++counter}`;
}

/** A replica server id no other test connection uses. */
export function uniqueServerId(): number {
  return 100_000 + ((process.pid * 97 + Date.now()) % 1_000_000) + ++counter;
}

export async function admin(): Promise<Connection> {
  const conn = await mysql.createConnection({ host: HOST, port: PORT, user: 'root', multipleStatements: true });
  await conn.query(`CREATE DATABASE IF NOT EXISTS ${DB}`);
  await conn.query(`USE ${DB}`);
  return conn;
}

export const LIMITS: BatchLimits = { maxRows: 10_000, maxBytes: 8 << 20, maxWaitMs: 300, idleWaitMs: 300 };

export function makeSpec(tables: string[], over: Partial<PipelineSpec> = {}): PipelineSpec {
  return {
    name: uniqueName('pipe'),
    source: { kind: 'mysql', host: HOST, port: PORT, user: 'root', tables, serverId: uniqueServerId() },
    destination: { path: '/tmp/unused.duckdb' },
    mode: 'merge',
    keyless: 'error',
    batch: LIMITS,
    snapshot: { enabled: false, chunkRows: 1000 },
    ...over,
  };
}

export function newSource(spec: PipelineSpec, schemaProbeMs?: number): MysqlSource {
  return new MysqlSource(spec, { logger: silent, ...(schemaProbeMs === undefined ? {} : { schemaProbeMs }) });
}

/** An in-memory `BatchSink` that remembers each event with the schema declared for it. */
export class RecordingSink implements BatchSink {
  readonly records: { event: ChangeEvent; schema: TableSchema }[] = [];
  readonly declared: TableSchema[] = [];
  readonly renames: { table: string; renames: { from: string; to: string }[] }[] = [];
  private readonly schemas = new Map<string, TableSchema>();
  private readonly changed = new Set<string>();
  private byteCount = 0;

  accepts(schema: TableSchema): boolean {
    return !this.changed.has(schema.table) || JSON.stringify(this.schemas.get(schema.table)) === JSON.stringify(schema);
  }

  hasChanges(table: string): boolean {
    return this.changed.has(table);
  }

  /** Starts the next batch (the previous one counts as loaded): schema changes are accepted again. */
  nextBatch(): void {
    this.changed.clear();
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

  renameColumns(table: string, renames: { from: string; to: string }[]): void {
    if (this.changed.has(table)) throw new Error(`${table}: rename after rows in one batch`);
    this.renames.push({ table, renames });
  }

  setSchema(schema: TableSchema): void {
    this.schemas.set(schema.table, schema);
    this.declared.push(schema);
  }

  write(event: ChangeEvent): Promise<void> {
    const schema = this.schemas.get(event.table);
    if (schema === undefined) throw new Error(`no schema declared for ${event.table}`);
    if (event.op !== 'truncate' && event.values.length !== schema.columns.length) {
      throw new Error(`${event.table}: ${event.values.length} values for ${schema.columns.length} columns`);
    }
    this.records.push({ event, schema });
    this.changed.add(event.table);
    this.byteCount += JSON.stringify(event).length;
    return Promise.resolve();
  }

  get events(): number {
    return this.records.length;
  }

  get bytes(): number {
    return this.byteCount;
  }

  /** Events of one table as `{op, ...column: value}` objects, for readable assertions. */
  rows(table: string): Record<string, string | null | undefined>[] {
    return this.records
      .filter((r) => r.event.table === table)
      .map(({ event, schema }) => {
        const row: Record<string, string | null | undefined> = { op: event.op };
        if (event.op !== 'truncate') schema.columns.forEach((c, i) => (row[c.name] = event.values[i]));
        return row;
      });
  }
}

export function ctx(signal: AbortSignal = new AbortController().signal): CaptureContext {
  return { heartbeat: () => undefined, signal };
}

/** One capture into a fresh sink. */
export async function captureOnce(
  source: MysqlSource,
  from: Checkpoint,
  limits: BatchLimits = LIMITS,
): Promise<{ outcome: CaptureOutcome; sink: RecordingSink }> {
  const sink = new RecordingSink();
  const outcome = await source.capture(from, sink, limits, ctx());
  return { outcome, sink };
}

/** Captures batch after batch (each one "loaded") until a capture neither writes nor moves; all events in one sink. */
export async function drain(
  source: MysqlSource,
  from: Checkpoint,
  limits: BatchLimits = LIMITS,
): Promise<{ to: Checkpoint; sink: RecordingSink; batches: number; schemaChanges: string[] }> {
  const sink = new RecordingSink();
  const schemaChanges: string[] = [];
  let at = from;
  let batches = 0;
  for (;;) {
    const before = sink.events;
    sink.nextBatch();
    const outcome = await source.capture(at, sink, limits, ctx());
    schemaChanges.push(...outcome.schemaChanges);
    const moved = checkpointKey(outcome.to) !== checkpointKey(at);
    at = outcome.to;
    if (sink.events === before && !moved) return { to: at, sink, batches, schemaChanges };
    batches++;
  }
}
