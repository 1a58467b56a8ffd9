import type { CheckpointView } from '../../src/model/checkpoint.js';
import type { Position } from '../../src/model/position.js';
import type { Dialect } from './column-types.js';
import type { Prng } from './prng.js';
import type { Txn } from './statements.js';

/** A source table read back as text (see each driver for the exact text forms). */
export interface SourceTable {
  /** Column names in table order. */
  columns: string[];
  rows: (string | null)[][];
}

export type AuditOp = 'insert' | 'update' | 'delete' | 'truncate';

/**
 * One change from the source's own audit log (filled by triggers, never replicated): the truth
 * APPEND is compared with. `image` is the full row after an insert/update, before a delete, as
 * text by column name (columns that did not exist then are absent); `oldImage` the row before an
 * update. `txn` groups the entries of one source transaction.
 */
export interface AuditEntry {
  id: number;
  txn: string;
  table: string;
  op: AuditOp;
  image: Record<string, string | null> | null;
  oldImage: Record<string, string | null> | null;
}

/** Where a fault injector may find the pipelines' replication connections. */
export interface ReplicationTargets {
  /** PostgreSQL replication slots of the run's pipelines. */
  slots: string[];
  /** The worker process (MariaDB binlog dumps are found through its sockets). */
  workerPid: number | undefined;
  rng: Prng;
}

/**
 * A source database for one run: created fresh, written by the workload, read back for the truth.
 * Everything it creates carries the run's unique name; `cleanup` removes only that.
 */
export interface SourceDriver {
  readonly dialect: Dialect;
  /** The schema (PostgreSQL) or database (MariaDB) holding the replicated tables. */
  readonly schema: string;
  /** Human-readable place of the source objects, for reports. */
  readonly location: string;

  /** Creates the database, schema and audit log (audit triggers come with each CREATE TABLE). */
  setup(): Promise<void>;
  /** Runs one transaction (ROLLBACK when asked); throws if any statement fails. */
  run(txn: Txn): Promise<void>;
  /** The highest audit log id so far. */
  auditMark(): Promise<number>;
  /** Audit entries after `afterId`, in order. */
  readAudit(afterId: number): Promise<AuditEntry[]>;
  /** Source tables of the replicated schema, as the source spells them. */
  listTables(): Promise<string[]>;
  /** A table's current rows as text, or null when it does not exist. */
  readTable(name: string): Promise<SourceTable | null>;
  /** The `source:` section of a pipeline in ducktail.yaml. */
  pipelineSource(pipeline: string): Record<string, unknown>;
  /** The source's current end of log, once the workload has stopped. */
  currentPosition(): Promise<Position>;
  /** True when `checkpoint` covers everything up to `target`. */
  reached(checkpoint: CheckpointView | null, target: Position): boolean;
  /** Kills the replication connection(s) of the run's pipelines; returns what it did. */
  killReplication(targets: ReplicationTargets): Promise<string>;
  /**
   * Drops replication state always (slots hold WAL on a shared server) and the databases unless
   * `keepData`; closes connections.
   */
  cleanup(pipelines: string[], keepData: boolean): Promise<void>;
}
