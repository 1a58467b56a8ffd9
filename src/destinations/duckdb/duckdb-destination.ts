import path from 'node:path';
import { StaleBatchError } from '../../errors.js';
import { logger as processLogger, type Logger } from '../../logger.js';
import type { BatchManifest, RowSegment, SchemaSegment, Segment, TruncateSegment } from '../../model/batch.js';
import { checkpointKey, type Checkpoint } from '../../model/checkpoint.js';
import type { WriteMode } from '../../model/pipeline-spec.js';
import type { ApplyOptions, ApplyResult, Destination } from '../destination.js';
import { buildAppendSql, truncateAppended } from './duckdb-append.js';
import { UnseenKeys } from './duckdb-backfill.js';
import {
  ensureInternalTables,
  forgetStoredPipeline,
  logBatch,
  modeChangeError,
  readStoredCheckpoint,
  registerMode,
  writeCheckpoint,
} from './duckdb-checkpoint.js';
import { DuckDBSession, type SqlRunner, type SqlSession } from './duckdb-connection.js';
import { duckdbColumnDdl, type ColumnDdl } from './duckdb-ddl.js';
import { segmentError } from './duckdb-errors.js';
import { buildMergeSql, truncateMerged } from './duckdb-merge.js';
import { resolveKeyMoves } from './duckdb-key-moves.js';
import { SchemaEvolver } from './duckdb-schema.js';
import { dropStage, STAGE_TABLE, stageSegment, stageStats, unsentColumns } from './duckdb-stage.js';
import { TableRegistry, type WriteStyle } from './duckdb-tables.js';

const HEARTBEAT_MS = 2_000;

/** How a destination's catalog differs from a DuckDB file's (a DuckLake, see src/destinations/ducklake). */
export interface CatalogTraits {
  /** The logger's component name. */
  component: string;
  /** How columns are added and retyped. */
  ddl: ColumnDdl;
  /** Runs last in a batch's transaction, before COMMIT (a lake records the batch's position). */
  beforeCommit?: (db: SqlRunner, manifest: BatchManifest) => Promise<void>;
}

const DUCKDB_FILE: CatalogTraits = { component: 'duckdb', ddl: duckdbColumnDdl };

/**
 * The DuckDB destination of every pipeline writing one file (or one DuckLake) in this process.
 * All calls run one at a time on one connection; `applyBatch` is one transaction that also writes
 * the checkpoint.
 */
export class DuckDBDestination implements Destination {
  private readonly evolver: SchemaEvolver;
  private readonly log: Logger;

  constructor(
    private readonly session: SqlSession,
    private readonly onClose: () => void = () => undefined,
    logger: Logger = processLogger,
    private readonly traits: CatalogTraits = DUCKDB_FILE,
  ) {
    this.log = logger.child({ component: traits.component });
    this.evolver = new SchemaEvolver(traits.ddl);
  }

  /** The database file (or the lake's description). */
  get path(): string {
    return this.session.path;
  }

  readCheckpoint(pipeline: string): Promise<Checkpoint | null> {
    return this.session.exclusive((db) => readStoredCheckpoint(db, pipeline));
  }

  initCheckpoint(pipeline: string, initial: Checkpoint): Promise<Checkpoint> {
    return this.session.exclusive((db) =>
      inTransaction(db, async () => {
        await ensureInternalTables(db);
        const stored = await readStoredCheckpoint(db, pipeline);
        if (stored !== null) return stored;
        await writeCheckpoint(db, pipeline, initial);
        return initial;
      }),
    );
  }

  async applyBatch(manifest: BatchManifest, options: ApplyOptions): Promise<ApplyResult> {
    const beat = (): void => {
      try {
        options.heartbeat();
      } catch {
        // Heartbeats are best effort; the load's outcome must not depend on them.
      }
    };
    beat();
    const timer = setInterval(beat, HEARTBEAT_MS);
    try {
      return await this.session.exclusive(async (db) => {
        try {
          return await this.applyInTransaction(db, manifest, options);
        } catch (err) {
          if (!joinFilterUnsupported(err)) throw err;
          // Rolled back: apply the batch again with the optimisation that failed turned off.
          this.log.warn(
            { pipeline: manifest.pipeline, batchId: manifest.batchId, error: (err as Error).message },
            'DuckDB could not push the join filter into a scan of data files written under other schemas: applying the batch again without it',
          );
          const [current] = await db.rows("SELECT current_setting('disabled_optimizers') AS v");
          const before = typeof current?.v === 'string' ? current.v : '';
          await db.run(`SET disabled_optimizers = '${[before, JOIN_FILTER_PUSHDOWN].filter((o) => o !== '').join(',')}'`);
          try {
            return await this.applyInTransaction(db, manifest, options);
          } finally {
            await db.run(`SET disabled_optimizers = '${before}'`).catch(() => undefined);
          }
        }
      });
    } finally {
      clearInterval(timer);
    }
  }

  registerPipeline(pipeline: string, mode: WriteMode): Promise<void> {
    return this.session.exclusive((db) =>
      inTransaction(db, async () => {
        await ensureInternalTables(db);
        await registerMode(db, pipeline, mode);
        const registry = await TableRegistry.load(db);
        const merged = registry.ofPipeline(pipeline).find((m) => m.style === 'merge');
        if (mode === 'append' && merged !== undefined) throw modeChangeError(pipeline, 'merge', mode);
      }),
    );
  }

  forgetPipeline(pipeline: string): Promise<void> {
    return this.session.exclusive((db) => forgetStoredPipeline(db, pipeline));
  }

  /** Closes the file for every holder of this shared destination; `openDuckDBDestination` opens it anew. */
  async close(): Promise<void> {
    this.onClose();
    await this.session.close();
  }

  private async applyInTransaction(db: SqlRunner, manifest: BatchManifest, options: ApplyOptions): Promise<ApplyResult> {
    await db.run('BEGIN TRANSACTION');
    try {
      const stored = await readStoredCheckpoint(db, manifest.pipeline);
      if (checkpointKey(stored) === checkpointKey(manifest.to)) {
        await db.run('ROLLBACK');
        return { skipped: true, checkpoint: manifest.to, counts: {}, resync: [] };
      }
      if (stored === null || checkpointKey(stored) !== checkpointKey(manifest.from)) {
        throw new StaleBatchError(
          `batch ${manifest.batchId} of pipeline ${manifest.pipeline} starts at ${checkpointKey(manifest.from)} ` +
            `but the checkpoint in ${this.path} is ${checkpointKey(stored)}`,
          'nothing to do: the pipeline discards the batch and captures again from the stored checkpoint',
        );
      }
      await ensureInternalTables(db);
      const registry = await TableRegistry.load(db);
      const unseen = await UnseenKeys.load(db);
      const written = new Set<string>();
      const notes: string[] = [];
      for (const segment of manifest.segments) {
        notes.push(...(await this.applySegment(db, registry, unseen, manifest, segment, options, written)));
      }
      await registry.save(db);
      await writeCheckpoint(db, manifest.pipeline, manifest.to);
      await logBatch(db, manifest);
      await this.traits.beforeCommit?.(db, manifest);
      await db.run('COMMIT');
      if (notes.length > 0) this.log.info({ pipeline: manifest.pipeline, changes: notes }, 'destination schema changed');
      const resync = registry.ofPipeline(manifest.pipeline).flatMap((m) => (m.resync === null ? [] : [`${m.sourceTable}: ${m.resync}`]));
      return { skipped: false, checkpoint: manifest.to, counts: manifest.counts, resync };
    } catch (err) {
      await db.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async applySegment(
    db: SqlRunner,
    registry: TableRegistry,
    unseen: UnseenKeys,
    manifest: BatchManifest,
    segment: Segment,
    options: ApplyOptions,
    written: Set<string>,
  ): Promise<string[]> {
    const file = segment.kind === 'rows' ? segment.file : segment.kind;
    try {
      if (segment.kind === 'backfill-begin' || segment.kind === 'backfill-end') {
        const mapping = registry.get(manifest.pipeline, segment.table);
        // A table the file does not have yet has nothing to remove.
        if (mapping === undefined || (await this.evolver.existing(db, registry, manifest.pipeline, segment.table)) === undefined) return [];
        if (segment.kind === 'backfill-begin') {
          await unseen.begin(db, mapping, segment);
          return [];
        }
        const removed = await unseen.end(db, mapping, segment);
        if (mapping.resync !== null) {
          mapping.resync = null;
          registry.touch(mapping);
        }
        return removed > 0 ? [`${segment.table}: re-sync removed ${removed} rows the source no longer has`] : [];
      }
      if (segment.kind === 'discard') {
        await this.evolver.discardSnapshot(db, registry, manifest.pipeline, segment.table, segment.position);
        written.add(segment.table);
        return [];
      }
      if (segment.kind === 'rename') {
        requireNoRowsYet(manifest, segment.table, written);
        return await this.evolver.rename(db, registry, manifest.pipeline, segment.table, segment.renames);
      }
      if (segment.kind === 'truncate' && segment.shapeOnlyIfNew === true) {
        // The shape is not the table's at the TRUNCATE (see TruncateSegment): a table the
        // pipeline already has is truncated as it is.
        const have = await this.evolver.existing(db, registry, manifest.pipeline, segment.table);
        if (have !== undefined) {
          written.add(segment.table);
          await (have.style === 'merge' ? truncateMerged(db, have.ref, segment) : truncateAppended(db, have.ref, segment));
          return [];
        }
      }
      const style = writeStyle(segment, options);
      const table = await this.evolver.evolve(db, registry, manifest.pipeline, segment.schema, style, () =>
        requireNoRowsYet(manifest, segment.table, written),
      );
      if (segment.kind === 'schema') return table.notes;
      written.add(segment.table);
      if (segment.kind === 'truncate') {
        await (style === 'merge' ? truncateMerged(db, table.ref, segment) : truncateAppended(db, table.ref, segment));
        return table.notes;
      }
      await stageSegment(db, options.spoolDir, segment);
      const plan = { schema: segment.schema, table, stage: STAGE_TABLE };
      const { keyMoves } = await stageStats(db);
      if (keyMoves > 0) await resolveKeyMoves(db, plan, style);
      await db.run(style === 'merge' ? buildMergeSql(plan, keyMoves > 0) : buildAppendSql(plan, await unsentColumns(db)));
      const mapping = registry.get(manifest.pipeline, segment.table);
      if (style === 'merge' && mapping !== undefined) await unseen.seen(db, mapping, plan);
      await dropStage(db);
      return table.notes;
    } catch (err) {
      throw segmentError(segment.table, file, err);
    }
  }
}

/**
 * DuckDB cannot commit a transaction that changes a table's schema after writing rows of it, so
 * capture ends a batch before such a change; a batch that breaks the rule fails here, clearly,
 * instead of at commit.
 */
function requireNoRowsYet(manifest: BatchManifest, table: string, written: Set<string>): void {
  if (!written.has(table)) return;
  throw new Error(
    `batch ${manifest.batchId} changes the schema of ${table} after writing rows of it in the same batch; ` +
      'capture must end a batch before such a change',
  );
}

/** Keyless tables are written one row per change, whatever the mode. */
function writeStyle(segment: RowSegment | TruncateSegment | SchemaSegment, options: ApplyOptions): WriteStyle {
  return options.mode === 'append' || segment.schema.primaryKey.length === 0 ? 'append' : 'merge';
}

async function inTransaction<T>(db: SqlRunner, work: () => Promise<T>): Promise<T> {
  await db.run('BEGIN TRANSACTION');
  try {
    const result = await work();
    await db.run('COMMIT');
    return result;
  } catch (err) {
    await db.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

const shared = new Map<string, Promise<DuckDBDestination>>();

/**
 * The destination for the DuckDB file at `file`, opened once per absolute path in this process
 * and shared by every caller. Throws `DestinationBusyError` when another process holds the file.
 */
export function openDuckDBDestination(file: string, logger: Logger = processLogger): Promise<DuckDBDestination> {
  const key = file === ':memory:' ? file : path.resolve(file);
  const cached = shared.get(key);
  if (cached !== undefined) return cached;
  // Closing (or failing to open) forgets this destination, not one opened for the file since.
  const forget = (): void => {
    if (shared.get(key) === opening) shared.delete(key);
  };
  const opening = DuckDBSession.open(key).then((session) => new DuckDBDestination(session, forget, logger));
  shared.set(key, opening);
  // A failed open (e.g. a busy file) is not cached: the next call tries again.
  opening.catch(forget);
  return opening;
}

/** Closes every destination `openDuckDBDestination` opened (worker shutdown). */
export async function closeAllDuckDBDestinations(): Promise<void> {
  const opened = await Promise.allSettled([...shared.values()]);
  for (const o of opened) if (o.status === 'fulfilled') await o.value.close();
}

/** The optimiser that pushes a join's key filter (min/max, Bloom filter) into the scan of the other side. */
const JOIN_FILTER_PUSHDOWN = 'join_filter_pushdown';

/**
 * DuckDB 1.5.5 cannot push a join's Bloom filter into a scan whose data files were written under
 * different schemas (a lake table whose columns changed, its files since compacted by upkeep):
 * "Not implemented Error: Can't convert TableFilterType (BLOOM_FILTER) from global to local
 * indexes". Found by the differential tester (PostgreSQL, seed 103, two workers on one lake).
 */
function joinFilterUnsupported(err: unknown): boolean {
  return err instanceof Error && /Can't convert TableFilterType \(BLOOM_FILTER\)/.test(err.message);
}
