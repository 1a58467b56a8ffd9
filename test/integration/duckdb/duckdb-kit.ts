import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type Json } from '@duckdb/node-api';
import type { ApplyOptions, ApplyResult } from '../../../src/destinations/destination.js';
import { DuckDBSession, type SqlSession } from '../../../src/destinations/duckdb/duckdb-connection.js';
import { DuckDBDestination, openDuckDBDestination } from '../../../src/destinations/duckdb/duckdb-destination.js';
import { ducklakeColumnDdl } from '../../../src/destinations/ducklake/ducklake-ddl.js';
import { openDuckLakeDestination } from '../../../src/destinations/ducklake/ducklake-destination.js';
import { DuckLakeSession, type LakeSecrets } from '../../../src/destinations/ducklake/ducklake-session.js';
import type { BatchManifest } from '../../../src/model/batch.js';
import type { ChangeEvent, RowOp } from '../../../src/model/change-event.js';
import type { Checkpoint } from '../../../src/model/checkpoint.js';
import type { LakeStorageSpec } from '../../../src/model/pipeline-spec.js';
import type { ColumnSchema, TableSchema } from '../../../src/model/table-schema.js';
import { readManifest } from '../../../src/staging/spool-reader.js';
import { SpoolWriter } from '../../../src/staging/spool-writer.js';
import { createTestLake, type TestLake } from '../../helpers/ducklake.js';

/** A declared schema, a column rename or an event, in the order a capture would hand them to the spool writer. */
export type Step =
  | TableSchema
  | ChangeEvent
  | { table: string; renames: { from: string; to: string }[] }
  | { declare: TableSchema }
  | { discard: string; position: string }
  | { backfill: 'begin' | 'end'; table: string; position?: string };

export const PIPELINE = 'p1';

/** The lake behind a harness, the secrets it is reached with, and a read-only session on it for the test's queries. */
interface LakeSide {
  lake: TestLake;
  secrets: LakeSecrets;
  reader: DuckLakeSession | null;
}

/** Where a test lake keeps its data files: the temp dir by default, or object storage. */
export interface LakeOptions {
  dataPath?: string;
  storage?: LakeStorageSpec;
  secrets?: LakeSecrets;
}

/** A DuckDB file (or a DuckLake) in a fresh temp dir, with the pipeline's checkpoint initialised. */
export class Harness {
  batches = 0;
  checkpoint: Checkpoint = { position: null, batchId: '' };

  private constructor(
    readonly dir: string,
    readonly dest: DuckDBDestination,
    readonly pipeline = PIPELINE,
    private readonly lakeSide: LakeSide | null = null,
  ) {}

  /** `file` is the database file's name: its stem is DuckDB's catalog name. */
  static async open(file = 'dest.duckdb'): Promise<Harness> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ducktail-duckdb-'));
    const dest = await openDuckDBDestination(path.join(dir, file));
    const harness = new Harness(dir, dest);
    await dest.initCheckpoint(PIPELINE, harness.checkpoint);
    return harness;
  }

  /** A DuckDB file whose destination runs its SQL through `wrap(session)` (e.g. to inject a DuckDB failure). */
  static async openWrapped(wrap: (session: SqlSession) => SqlSession): Promise<Harness> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ducktail-duckdb-'));
    const dest = new DuckDBDestination(wrap(await DuckDBSession.open(path.join(dir, 'dest.duckdb'))));
    const harness = new Harness(dir, dest);
    await dest.initCheckpoint(PIPELINE, harness.checkpoint);
    return harness;
  }

  /** A DuckLake (catalog: a fresh PostgreSQL database; data files in the temp dir unless `options` say where); queries see its tables unqualified. */
  static async openLake(options: LakeOptions = {}): Promise<Harness> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ducktail-ducklake-'));
    const lake = await createTestLake(options.dataPath ?? path.join(dir, 'data'));
    if (options.storage !== undefined) lake.destination.storage = options.storage;
    const secrets = options.secrets ?? {};
    const dest = await openDuckLakeDestination(lake.destination, secrets);
    const harness = new Harness(dir, dest, PIPELINE, { lake, secrets, reader: null });
    await dest.initCheckpoint(PIPELINE, harness.checkpoint);
    return harness;
  }

  /** The lake's spec (throws for a DuckDB file). */
  get lake(): TestLake {
    if (this.lakeSide === null) throw new Error('not a lake harness');
    return this.lakeSide.lake;
  }

  /** Spools `steps` as the next batch (from the current checkpoint) and returns its manifest. */
  async stage(steps: Step[]): Promise<{ manifest: BatchManifest; spoolDir: string }> {
    const n = ++this.batches;
    const batchId = this.pipeline === PIPELINE ? `b${n}` : `${this.pipeline}-b${n}`;
    const spoolDir = path.join(this.dir, 'spool', batchId);
    const writer = await SpoolWriter.create(spoolDir, this.pipeline, batchId, this.checkpoint);
    for (const step of steps) {
      if ('columns' in step) writer.setSchema(step);
      else if ('renames' in step) writer.renameColumns(step.table, step.renames);
      else if ('declare' in step) writer.declareTable(step.declare);
      else if ('discard' in step) writer.discardSnapshot(step.discard, step.position);
      else if ('backfill' in step) {
        if (step.backfill === 'begin') writer.beginBackfill(step.table, ['id']);
        else writer.endBackfill(step.table, ['id'], step.position ?? '0/0', null);
      }
      else await writer.write(step);
    }
    const to: Checkpoint = { position: { kind: 'pg', lsn: `0/${n}`, ackLsn: `0/${n}` }, batchId };
    await writer.finish(to, []);
    return { manifest: await readManifest(spoolDir), spoolDir };
  }

  /** Stages and applies `steps`; on success the harness moves to the batch's checkpoint. */
  async apply(steps: Step[], options: Partial<ApplyOptions> = {}): Promise<ApplyResult> {
    const { manifest, spoolDir } = await this.stage(steps);
    return this.applyStaged(manifest, spoolDir, options);
  }

  async applyStaged(manifest: BatchManifest, spoolDir: string, options: Partial<ApplyOptions> = {}): Promise<ApplyResult> {
    const result = await this.dest.applyBatch(manifest, { mode: 'merge', heartbeat: () => undefined, spoolDir, ...options });
    this.checkpoint = result.checkpoint;
    return result;
  }

  /** The same file, written by another pipeline (its checkpoint initialised). */
  async asPipeline(pipeline: string): Promise<Harness> {
    const other = new Harness(this.dir, this.dest, pipeline, this.lakeSide);
    await this.dest.initCheckpoint(pipeline, other.checkpoint);
    return other;
  }

  /**
   * The same lake, written by another pipeline through a destination of its own (as another
   * worker process would: its own DuckDB instance and catalog connection). Close its `dest`
   * yourself; `close()` of this harness drops the lake.
   */
  async asPipelineOnAnotherWriter(pipeline: string): Promise<Harness> {
    const session = await DuckLakeSession.open({ destination: this.lake.destination, ...this.lakeSide?.secrets });
    const dest = new DuckDBDestination(session, () => undefined, undefined, { component: 'ducklake', ddl: ducklakeColumnDdl });
    const other = new Harness(this.dir, dest, pipeline, this.lakeSide);
    await dest.initCheckpoint(pipeline, other.checkpoint);
    return other;
  }

  /** Runs a statement on a second connection (e.g. a user's own table). */
  async exec(sql: string): Promise<void> {
    if (this.lakeSide === null) {
      await this.query(sql);
      return;
    }
    const writer = await DuckLakeSession.open({ destination: this.lakeSide.lake.destination, ...this.lakeSide.secrets });
    try {
      await writer.exclusive((db) => db.run(sql));
    } finally {
      await writer.close();
    }
  }

  /** Rows of `sql`, read on a second connection to the same file (committed data only). */
  async query(sql: string): Promise<Record<string, Json>[]> {
    if (this.lakeSide !== null) {
      this.lakeSide.reader ??= await DuckLakeSession.open({ destination: this.lakeSide.lake.destination, ...this.lakeSide.secrets, readOnly: true });
      return this.lakeSide.reader.exclusive((db) => db.rows(sql));
    }
    const instance = await DuckDBInstance.fromCache(this.dest.path);
    const connection = await instance.connect();
    try {
      return (await connection.runAndReadAll(sql)).getRowObjectsJson();
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }

  async close(): Promise<void> {
    try {
      await this.dest.close();
      await this.lakeSide?.reader?.close();
    } finally {
      await this.lakeSide?.lake.drop();
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}

/** A column; `duckType` defaults to VARCHAR and encoding to text. */
export function column(name: string, duckType = 'VARCHAR', encoding: ColumnSchema['encoding'] = 'text'): ColumnSchema {
  return { name, sourceType: duckType.toLowerCase(), duckType, encoding };
}

export function schema(table: string, columns: ColumnSchema[], primaryKey: string[] = [columns[0]?.name ?? '']): TableSchema {
  return { table, columns, primaryKey };
}

let seq = 0;

/** A row event at position `position` (a label, stored as `__position`). */
export function row(
  table: string,
  op: RowOp,
  values: (string | null | undefined)[],
  position = '0/A',
  commitTs: string | null = '2024-05-01T10:00:00.000001Z',
): ChangeEvent {
  return { table, op, values, position, commitTs, seq: seq++ };
}

export function truncate(table: string, position = '0/T'): ChangeEvent {
  return { table, op: 'truncate', position, commitTs: '2024-05-01T11:00:00Z', seq: seq++ };
}
