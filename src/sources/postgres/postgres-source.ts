import type pg from 'pg';
import type { Pgoutput } from 'pg-logical-replication';
import { PositionLostError, PrivilegeError, SourceSettingError } from '../../errors.js';
import { retentionSettings, type SourceRetention } from '../../model/retention.js';
import { positionLostHint } from '../position-lost.js';
import { thresholdWarning } from '../retention.js';
import { readSlotRetention, slotLost, slotRetention } from './postgres-retention.js';
import type { Logger } from '../../logger.js';
import { randomUUID } from 'node:crypto';
import type { Checkpoint, SnapshotProgress, TableBackfill } from '../../model/checkpoint.js';
import type { BatchLimits, PipelineSpec, PostgresSourceSpec } from '../../model/pipeline-spec.js';
import type { PgPosition, Position } from '../../model/position.js';
import { splitTableName, type TableSchema } from '../../model/table-schema.js';
import type { BatchSink, CaptureContext, CaptureOutcome, PreflightReport, SourceConnector } from '../source-connector.js';
import type { SnapshotBudget } from '../batch-rules.js';
import { activeBackfill, advanceBackfill, BACKFILL_CHUNK_MAX, ChunkTracker, ChunkWindow, skipBackfill, WATERMARK_PREFIX, watermarkText } from '../backfill.js';
import { captureBatch, snapshotOutcome, snapshotStartedOver, streamOutcome } from '../capture-core.js';
import { SchemaProbe } from '../schema-probe.js';
import type { SourceDeps } from '../source-deps.js';
import { captureStream, newCursor, type StreamCursor } from './postgres-capture.js';
import { listSelectedTables, PgCatalog, type PgTable } from './postgres-catalog.js';
import { DDL_TRIGGER_MISSING, DROP_DDL_TRIGGER_SQL, ddlTriggerInstalled, ensureDdlTrigger, type DdlMessage } from './postgres-ddl.js';
import { connectPg, pgClientConfig, quoteIdent, quoteTable } from './postgres-connection.js';
import { toDucktailError } from './postgres-errors.js';
import * as positions from './postgres-position.js';
import { runPreflight } from './postgres-preflight.js';
import { SchemaTracker } from '../schema-tracker.js';
import { checkSlotCanResume, checkSlotUsable, createSlot, dropSlot, dropSlotAndPublication, ensurePublication, readSlot } from './postgres-slot.js';
import { copySnapshotChunk, readBackfillChunk, waitForWriters } from './postgres-snapshot.js';
import { SnapshotOutdatedError } from '../snapshot-outdated.js';
import { PgReplicationStream } from './postgres-stream.js';
import { TableSelection } from '../table-selection.js';

/** How long a chunk waits for transactions writing its table (writers queue behind it meanwhile). */
const WRITERS_WAIT_MS = 200;
/** How long after such a wait timed out the next chunk is tried. */
const BUSY_RETRY_MS = 2_000;

/** The exported snapshot of a slot this process created, kept alive by its idle replication connection. */
interface ExportedSnapshot {
  holder: pg.Client;
  name: string;
  start: PgPosition;
}

/** PostgreSQL change capture through a pgoutput logical replication slot. See `SourceConnector`. */
export class PostgresSource implements SourceConnector {
  private readonly source: PostgresSourceSpec;
  private readonly selection: TableSelection;
  private readonly log: Logger;
  private readonly schemas = new SchemaTracker();
  private readonly probe: SchemaProbe<Position>;
  /** Whether the DDL trigger writes shapes into this stream (see postgres-ddl.ts). */
  private ddlTrigger = false;
  private readonly warned = new Set<string>();
  private meta: { client: pg.Client; catalog: PgCatalog } | null = null;
  private exported: ExportedSnapshot | null = null;
  private stream: PgReplicationStream | null = null;
  private cursor: StreamCursor | null = null;
  /** The incremental copy's chunk in flight, and the shape it was read under. */
  private readonly chunks = new ChunkTracker();
  private chunkTable: PgTable | null = null;
  /** No chunk starts before this time (a transaction held the table, see `waitForWriters`). */
  private chunkBusyUntil = 0;
  /** The publication was checked against this spec's tables (once per connector: a changed spec makes a new one). */
  private published = false;
  /** The stream carries logical decoding messages (PostgreSQL 14+): DDL shapes and re-sync watermarks. */
  private messages = false;
  private durableAck = 0n;
  private seeded = false;

  constructor(
    private readonly spec: PipelineSpec,
    private readonly deps: SourceDeps,
  ) {
    if (spec.source.kind !== 'postgres') throw new Error(`PostgresSource needs a postgres source, got ${spec.source.kind}`);
    this.source = spec.source;
    this.selection = new TableSelection(spec.source.tables);
    this.log = deps.logger.child({ pipeline: spec.name, source: 'postgres' });
    this.probe = new SchemaProbe(deps.schemaProbeMs);
  }

  async preflight(): Promise<PreflightReport> {
    const { client, catalog } = await this.connection();
    try {
      return await runPreflight(client, this.spec, catalog);
    } catch (e) {
      throw toDucktailError(e, { doing: 'preflight' });
    }
  }

  async prepare(): Promise<Checkpoint> {
    const { client } = await this.connection();
    if (!(await ensureDdlTrigger(client))) this.log.warn(DDL_TRIGGER_MISSING);
    const tables = await listSelectedTables(client, this.selection);
    for (const change of await ensurePublication(client, this.source.publication, this.selection, tables)) this.log.info(change);
    const slot = await readSlot(client, this.source.slot);
    let start: PgPosition;
    if (slot !== null) {
      checkSlotUsable(this.source.slot, slot, this.source.database);
      start = positions.boundaryPosition(slot.confirmedFlushLsn ?? '0/0');
    } else {
      const created = await createSlot(this.clientConfig(), this.source.slot, this.spec.snapshot.enabled);
      start = positions.boundaryPosition(created.consistentPoint);
      this.log.info({ slot: this.source.slot, consistentPoint: start.lsn }, 'created replication slot');
      await this.holdExported(created, start);
    }
    if (!this.spec.snapshot.enabled) return { position: start, batchId: '' };
    const consistent = this.exported !== null && positions.comparePgPositions(this.exported.start, start) === 0;
    const planned = tables.map((t) => ({ table: `${t.schema}.${t.name}`, done: false, rows: 0 }));
    return { position: null, batchId: '', snapshot: { startPosition: start, tables: planned, consistent } };
  }

  async capture(from: Checkpoint, sink: BatchSink, limits: BatchLimits, ctx: CaptureContext): Promise<CaptureOutcome> {
    try {
      return await captureBatch(from, sink, limits, this.spec.snapshot.chunkRows, ctx, {
        snapshot: (f, progress, s, budget) => this.captureSnapshot(f, progress, s, budget, ctx),
        stream: (f, start, s, l) => this.captureStream(f, positions.asPgPosition(start), s, l, ctx),
      });
    } catch (e) {
      await this.closeStream();
      throw toDucktailError(e, { doing: 'capturing from PostgreSQL', pipeline: this.spec.name });
    }
  }

  acknowledge(checkpoint: Checkpoint): Promise<void> {
    const at = positions.streamPosition(checkpoint);
    if (at === null) return Promise.resolve();
    const lsn = positions.parseLsn(at.ackLsn);
    if (lsn > this.durableAck) this.durableAck = lsn;
    this.stream?.acknowledge(this.durableAck);
    return Promise.resolve();
  }

  async currentPosition(): Promise<Position> {
    const { client } = await this.connection();
    const res = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    return positions.boundaryPosition(res.rows[0]?.lsn ?? '0/0');
  }

  async retention(checkpoint: Checkpoint): Promise<SourceRetention> {
    const { client } = await this.connection();
    const info = await readSlotRetention(client, this.source.slot);
    const lost = slotLost(this.source.slot, info, checkpoint.position !== null);
    if (lost !== null) throw new PositionLostError(`pipeline ${this.spec.name}: ${lost}`, positionLostHint(this.spec.name, this.spec.mode));
    const retention = slotRetention(info, new Date());
    const over = thresholdWarning(this.spec.name, retention.bytes, 'WAL', retentionSettings(this.spec).warnBytes);
    if (over !== null) retention.warnings.unshift(over);
    return retention;
  }

  reached(checkpoint: Checkpoint, target: Position): boolean {
    return positions.pgReached(checkpoint, target);
  }

  lagBytes(checkpoint: Checkpoint, current: Position): number | null {
    return positions.pgLagBytes(checkpoint, current);
  }

  describe(position: Position): string {
    return positions.describePgPosition(position);
  }

  async prepareResync(tables: string[]): Promise<void> {
    const { client } = await this.connection();
    if (!(await hasStreamMessages(client))) {
      throw new SourceSettingError('re-syncing a table needs PostgreSQL 14 or newer (its watermarks are logical decoding messages)', 'upgrade the source, or copy everything again with teardown + start');
    }
    for (const table of tables) {
      const { schema, name } = splitTableName(table);
      const res = await client.query<{ ok: boolean }>(
        `SELECT has_table_privilege(c.oid, 'UPDATE') OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE') AS ok
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
        [schema, name],
      );
      if (res.rows[0]?.ok === false) {
        throw new PrivilegeError(
          `${this.source.user} may not lock ${table} briefly, which a re-sync does before each chunk (to see every transaction committed before it)`,
          `GRANT UPDATE ON ${quoteTable(schema, name)} TO ${quoteIdent(this.source.user)}; (or DELETE or TRUNCATE), then resync again`,
        );
      }
    }
  }

  releaseStream(): Promise<void> {
    return this.closeStream();
  }

  async close(): Promise<void> {
    await this.closeStream();
    await this.dropExported();
    const meta = this.meta;
    this.meta = null;
    this.seeded = false;
    await meta?.client.end().catch(() => undefined);
  }

  async teardown(): Promise<void> {
    await this.closeStream();
    await this.dropExported();
    const { client } = await this.connection();
    await dropSlotAndPublication(client, this.source.slot, this.source.publication);
    // The DDL trigger serves every pipeline of this database: it goes with the last slot.
    const others = await client.query('SELECT 1 FROM pg_replication_slots WHERE database = current_database()');
    if (others.rowCount === 0) await client.query(DROP_DDL_TRIGGER_SQL).catch((e: unknown) => this.log.warn({ err: e }, 'could not drop the DDL trigger'));
    await this.close();
  }

  private async captureStream(from: Checkpoint, start: PgPosition, sink: BatchSink, limits: BatchLimits, ctx: CaptureContext): Promise<CaptureOutcome> {
    await this.dropExported(); // streaming: no snapshot needs it any more
    const stream = await this.openStream(start, ctx.signal);
    const cursor = this.cursor ?? newCursor(start.ackLsn);
    // With the DDL trigger every shape arrives in the stream: no need to look for lost ones.
    if (!this.ddlTrigger && this.probe.due()) {
      const shapes = await this.catalogSchemas();
      this.probe.take(await this.currentPosition(), shapes, this.schemas);
    }
    let backfill = from.backfill;
    const notes: string[] = [];
    const entry = activeBackfill(from);
    if (entry !== null && this.chunks.resume(from) === null && !ctx.signal.aborted && Date.now() >= this.chunkBusyUntil) {
      const skipped = await this.startChunk(entry);
      if (skipped !== null && backfill !== undefined) {
        backfill = skipBackfill(backfill, entry.table);
        notes.push(`${entry.table}: ${entry.reason} skipped: ${skipped}`);
      }
    }
    const { to, schemaChanges } = await captureStream({
      stream, cursor, from: start, sink, limits, ctx, schemas: this.schemas,
      resolve: (r) => this.resolve(r),
      told: (schema) => this.probe.markTold(schema),
      resolveDdl: (ddl) => this.resolveDdl(ddl),
      chunks: this.chunks,
      ...(this.chunkTable === null ? {} : { chunkTable: this.chunkTable }),
    });
    const reached = (at: Position): boolean => positions.coveredLsn(to) >= positions.parseLsn(positions.asPgPosition(at).lsn);
    schemaChanges.push(...notes, ...this.probe.declareSettled(reached, sink, this.schemas));
    const done = this.chunks.done;
    if (done !== null && backfill !== undefined) backfill = advanceBackfill(backfill, done);
    const outcome = streamOutcome(from, to, positions.comparePgPositions(to, start) !== 0, schemaChanges, backfill);
    this.chunks.ended(outcome.to);
    return outcome;
  }

  /**
   * Reads the next chunk of `entry`'s table between a low and a high watermark written to the
   * stream (see src/sources/backfill.ts). Returns why the table cannot be copied, or null.
   */
  private async startChunk(entry: TableBackfill): Promise<string | null> {
    const { client, catalog } = await this.connection();
    if (!this.messages) return 'a re-sync needs PostgreSQL 14 or newer (its watermarks are logical decoding messages)';
    const id = randomUUID();
    const emit = (mark: 'low' | 'high'): Promise<unknown> =>
      client.query('SELECT pg_logical_emit_message(true, $1, $2)', [WATERMARK_PREFIX, watermarkText({ chunk: id, mark })]);
    await emit('low');
    const writers = await waitForWriters(client, entry.table, WRITERS_WAIT_MS);
    if (writers === 'denied') return `locking it needs the UPDATE, DELETE or TRUNCATE privilege (briefly, to see every transaction committed before a chunk); grant one to ${this.source.user}, then resync again`;
    if (writers === 'busy') {
      // A transaction has held the table a while: let writers go on and try again a little later.
      this.chunkBusyUntil = Date.now() + BUSY_RETRY_MS;
      this.log.info({ table: entry.table }, 'a transaction keeps writing the table being copied: the next chunk waits for it');
      return null;
    }
    const read = await readBackfillChunk(client, catalog, entry.table, entry.lastKey, Math.min(this.spec.snapshot.chunkRows, BACKFILL_CHUNK_MAX), entry.keys);
    if ('missing' in read) return read.missing;
    await emit('high');
    this.chunks.window = new ChunkWindow(id, entry, read.chunk);
    this.chunkTable = read.built;
    return null;
  }

  private async captureSnapshot(from: Checkpoint, snapshot: SnapshotProgress, sink: BatchSink, budget: SnapshotBudget, ctx: CaptureContext): Promise<CaptureOutcome> {
    const { client, catalog } = await this.connection();
    const ex = this.exported;
    const usable = ex !== null && positions.comparePgPositions(ex.start, positions.asPgPosition(snapshot.startPosition)) === 0;
    if (!usable) return this.restartSnapshot(from, snapshot, sink);
    let copied;
    try {
      copied = await copySnapshotChunk({
        client, catalog, schemas: this.schemas, progress: snapshot, sink, budget, ctx,
        exportedSnapshot: ex.name,
      });
    } catch (e) {
      // 22023 "invalid snapshot identifier": the connection exporting it went away meanwhile.
      const gone = (e as { code?: string }).code === '22023';
      if (gone || e instanceof SnapshotOutdatedError) {
        if (e instanceof SnapshotOutdatedError) this.log.warn({ table: e.table, why: e.why }, 'a table changed after the snapshot began: starting the snapshot over');
        await this.dropExported();
        if (sink.events === 0) return this.restartSnapshot(from, snapshot, sink);
      }
      throw e;
    }
    const { progress, schemaChanges } = copied;
    if (progress.tables.every((t) => t.done)) await this.dropExported(); // the copy is complete: stop pinning the snapshot's xmin
    return snapshotOutcome(from, progress, schemaChanges);
  }

  /**
   * The exported snapshot is gone (the process holding it died, or the slot was made elsewhere):
   * chunks read now would not be consistent with the slot's start. The copy starts over: a new
   * slot and exported snapshot (streaming has not begun, so the old slot covers nothing loaded),
   * and what the interrupted copy loaded is discarded in this batch.
   */
  private async restartSnapshot(from: Checkpoint, snapshot: SnapshotProgress, sink: BatchSink): Promise<CaptureOutcome> {
    const { client } = await this.connection();
    await this.dropExported();
    await dropSlot(client, this.source.slot);
    const created = await createSlot(this.clientConfig(), this.source.slot, true);
    const start = positions.boundaryPosition(created.consistentPoint);
    await this.holdExported(created, start);
    const tables = (await listSelectedTables(client, this.selection)).map((t) => ({ table: `${t.schema}.${t.name}`, done: false, rows: 0 }));
    const next = { startPosition: start, tables, consistent: true };
    const old = positions.asPgPosition(snapshot.startPosition).lsn;
    const { outcome, discardedRows } = snapshotStartedOver(from, snapshot, old, next, start.lsn, sink);
    this.log.warn({ slot: this.source.slot, discardedRows, consistentPoint: start.lsn }, 'the snapshot was interrupted and its exported snapshot is gone: copying again from a new consistent point');
    return outcome;
  }

  /** The open stream if it can continue after `from`; otherwise a new one from `from.ackLsn`. */
  private async openStream(from: PgPosition, signal: AbortSignal): Promise<PgReplicationStream> {
    const cursor = this.cursor;
    const ahead = cursor?.handedOut != null && positions.comparePgPositions(cursor.handedOut, from) > 0;
    if (this.stream !== null && !this.stream.failed && !ahead) return this.stream;
    await this.closeStream();
    await this.seedSchemas();
    const { client } = await this.connection();
    await checkSlotCanResume(client, this.source.slot, this.source.database, from.ackLsn, this.spec.name);
    const start = positions.parseLsn(from.ackLsn);
    if (start > this.durableAck) this.durableAck = start;
    if (!this.published) {
      // Tables added to the spec of a running pipeline join the publication before they are streamed (and copied).
      for (const change of await ensurePublication(client, this.source.publication, this.selection, await listSelectedTables(client, this.selection))) this.log.info(change);
      this.published = true;
    }
    const messages = await hasStreamMessages(client);
    this.messages = messages;
    this.ddlTrigger = messages && (await ddlTriggerInstalled(client));
    this.stream = await PgReplicationStream.open(
      { client: this.clientConfig(), slot: this.source.slot, publication: this.source.publication, logger: this.log, messages },
      start,
      signal,
    );
    this.stream.acknowledge(this.durableAck);
    this.cursor = newCursor(from.ackLsn);
    this.chunks.reset();
    this.probe.reset();
    return this.stream;
  }

  /**
   * The staged shape of a relation message. Column numbers and missing values come from the DDL
   * trigger's latest message for the table when this stream saw one (exact at this point of the
   * stream), else from the catalog as it is now.
   */
  private async resolve(relation: Pgoutput.MessageRelation): Promise<PgTable | null> {
    if (!this.selection.includes(relation.schema, relation.name)) return null;
    const { catalog } = await this.connection();
    const ddl = this.cursor?.ddl.get(relation.relationOid);
    let key = ddl?.primaryKey ?? (await catalog.primaryKey(relation.relationOid));
    if (key.length === 0 && relation.replicaIdentity === 'default') key = relation.keyColumns;
    const columns = relation.columns.map((c) => ({ name: c.name, typeOid: c.typeOid, typeMod: c.typeMod }));
    // With the DDL trigger every change of shape arrives as a message before the rows that use it:
    // a shape this stream has no message for is one the destination already has, and the catalog
    // as it is now (possibly changed again since) must not be asked about it.
    const known = ddl?.columns ?? (this.ddlTrigger ? [] : undefined);
    this.log.debug({ table: relation.name, columns: relation.columns.map((c) => c.name), ddl: ddl?.columns.map((c) => `${c.attname}#${c.attnum}`), trigger: this.ddlTrigger }, 'relation');
    return catalog.build(`${relation.schema}.${relation.name}`, relation.relationOid, columns, key, known);
  }

  /** The staged shape a DDL trigger message describes (see postgres-ddl.ts), or null when the table is not captured. */
  private async resolveDdl(ddl: DdlMessage): Promise<PgTable | null> {
    this.log.debug({ table: ddl.table, columns: ddl.columns.map((c) => `${c.attname}#${c.attnum}`) }, 'ddl message');
    if (!this.selection.includes(ddl.schema, ddl.table)) return null;
    const { catalog } = await this.connection();
    const columns = ddl.columns.map((c) => ({ name: c.attname, typeOid: c.atttypid, typeMod: c.atttypmod }));
    return catalog.build(`${ddl.schema}.${ddl.table}`, ddl.oid, columns, ddl.primaryKey, ddl.columns);
  }

  // Tables that exist when streaming starts are not reported as new when their first relation arrives.
  private async seedSchemas(): Promise<void> {
    if (this.seeded) return;
    for (const schema of await this.catalogSchemas()) this.schemas.seed(schema);
    this.seeded = true;
  }

  /** The current shape of every selected table, from the catalog. */
  private async catalogSchemas(): Promise<TableSchema[]> {
    const { client, catalog } = await this.connection();
    const out: TableSchema[] = [];
    for (const ref of await listSelectedTables(client, this.selection)) {
      const t = await catalog.table(ref.schema, ref.name);
      if (t !== null) out.push((await catalog.build(`${ref.schema}.${ref.name}`, t.oid, t.columns, t.primaryKey)).schema);
    }
    return out;
  }

  private async connection(): Promise<{ client: pg.Client; catalog: PgCatalog }> {
    if (this.meta !== null) return this.meta;
    const client = await connectPg(this.clientConfig());
    const meta = { client, catalog: new PgCatalog(client, (m) => this.warnOnce(m)) };
    client.on('end', () => this.meta === meta && (this.meta = null));
    this.meta = meta;
    return meta;
  }

  private clientConfig(): pg.ClientConfig {
    return pgClientConfig(this.source, this.deps.password);
  }

  private warnOnce(message: string): void {
    const key = message.slice(0, message.indexOf(':') + 1) || message;
    if (this.warned.has(key) || this.warned.size > 1000) return;
    this.warned.add(key);
    this.log.warn(`${message} (reported once per column)`);
  }

  private async closeStream(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    this.cursor = null;
    this.chunks.reset();
    await stream?.close();
  }

  /** Keeps the snapshot a new slot exported, held by its idle replication connection, for the copy. */
  private async holdExported(created: { holder: pg.Client | null; snapshotName: string | null }, start: PgPosition): Promise<void> {
    if (created.holder === null || created.snapshotName === null) return;
    await this.dropExported();
    const holder = created.holder;
    holder.on('end', () => this.exported?.holder === holder && (this.exported = null));
    this.exported = { holder, name: created.snapshotName, start };
  }

  private async dropExported(): Promise<void> {
    const ex = this.exported;
    this.exported = null;
    await ex?.holder.end().catch(() => undefined);
  }
}

/** True when pgoutput can carry logical decoding messages (PostgreSQL 14+). */
async function hasStreamMessages(client: pg.Client): Promise<boolean> {
  const res = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
  return Number(res.rows[0]?.v ?? 0) >= 140000;
}
