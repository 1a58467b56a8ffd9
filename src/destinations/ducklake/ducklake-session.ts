import { DuckDBInstance, type DuckDBConnection, type Json } from '@duckdb/node-api';
import { DucktailError } from '../../errors.js';
import { describeDestination, type DuckLakeDestinationSpec } from '../../model/pipeline-spec.js';
import type { SqlRunner, SqlSession } from '../duckdb/duckdb-connection.js';
import { quoteIdent, quoteLiteral } from '../duckdb/duckdb-sql.js';
import { attachError, lakeError } from './ducklake-errors.js';
import { lakeInstanceOptions, prepareLakeExtensions } from './ducklake-extensions.js';
import { createSecretSql, isRemoteDataPath, type StorageKeys } from './ducklake-storage.js';

/** The catalog name a lake is attached under; tables are `lake.<schema>.<table>`. */
export const LAKE_CATALOG = 'lake';

/** What the worker read from its environment to reach a lake; never in specs, logs or errors. */
export interface LakeSecrets {
  /** The catalog password (from `destination.passwordEnv`), if any. */
  password?: string;
  /** The object store's keys (from the variables `destination.storage` names), if it has a storage block. */
  storageKeys?: StorageKeys;
}

export interface LakeTarget extends LakeSecrets {
  destination: DuckLakeDestinationSpec;
  /** Attach read-only (queries). */
  readOnly?: boolean;
  /** Attach the lake as of this snapshot (read-only): every table as that commit left it. */
  snapshotVersion?: number;
}

interface Attached {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
}

/**
 * One connection to a DuckLake: an in-memory DuckDB with the lake attached as `lake` and made
 * the default catalog, so the DuckDB destination's SQL runs unchanged against it and its temp
 * tables (staged rows) stay in memory. DuckLake takes many writers, so unlike a DuckDB file the
 * lake is held open: nothing waits for readers, and readers never wait for it. Work is queued so
 * no two statements ever run at once on the connection. A connection whose catalog link broke
 * is dropped and attached afresh by the next call.
 */
export class DuckLakeSession implements SqlSession {
  readonly path: string;
  private queue: Promise<unknown> = Promise.resolve();
  private attached: Attached | null = null;
  private closed = false;
  private closing: Promise<void> | undefined;

  /** The values errors must not show. */
  private readonly secrets: string[];

  private constructor(private readonly target: LakeTarget) {
    this.path = describeDestination(target.destination);
    const { password, storageKeys } = target;
    this.secrets = [password, storageKeys?.secret, storageKeys?.sessionToken].filter((s): s is string => s !== undefined && s.length > 0);
  }

  /** A session on the lake, attached now so a lake that cannot be used fails here. */
  static async open(target: LakeTarget): Promise<DuckLakeSession> {
    const session = new DuckLakeSession(target);
    await session.exclusive(() => Promise.resolve());
    return session;
  }

  exclusive<T>(work: (db: SqlRunner) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      if (this.closed) throw new Error(`DuckLake session for ${this.path} is closed`);
      const attached = await this.attach();
      try {
        return await work(runner(attached.connection, (err) => this.error(err)));
      } catch (err) {
        if (lostCatalog(err)) this.detach();
        throw err;
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Column names and rows (arrays of JSON values) of one query. */
  table(sql: string): Promise<{ columns: string[]; rows: Json[][] }> {
    return this.exclusive(async () => {
      const { connection } = await this.attach();
      try {
        const reader = await connection.runAndReadAll(sql);
        return { columns: reader.columnNames(), rows: reader.getRowsJson() };
      } catch (err) {
        throw this.error(err);
      }
    });
  }

  /**
   * Runs `work` on the connection inside one transaction: every statement of it reads the same
   * snapshot of the lake, and a later call reads the newest committed one. Rolled back when
   * `work` throws; meant for reads (a read-only session has nothing to commit either way).
   */
  transaction<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.exclusive(async (db) => {
      const { connection } = await this.attach();
      await db.run('BEGIN TRANSACTION');
      let value: T;
      try {
        value = await work(connection);
      } catch (err) {
        await connection.run('ROLLBACK').catch(() => undefined);
        throw this.error(err);
      }
      await db.run('COMMIT');
      return value;
    });
  }

  close(): Promise<void> {
    this.closing ??= this.exclusive(() => {
      this.closed = true;
      return Promise.resolve();
    }).then(() => this.detach());
    return this.closing;
  }

  /** A statement's error as the caller sees it: classified (`lakeError`), with every secret hidden. */
  private error(err: unknown): Error {
    return lakeError(err, this.secrets, this.target.destination);
  }

  private async attach(): Promise<Attached> {
    if (this.attached !== null) return this.attached;
    const instance = await DuckDBInstance.create(':memory:', lakeInstanceOptions());
    try {
      const connection = await instance.connect();
      const { destination, storageKeys } = this.target;
      await prepareLakeExtensions(connection, { remoteData: isRemoteDataPath(destination.dataPath) });
      const secret = createSecretSql(destination, storageKeys);
      if (secret !== null) await connection.run(secret);
      await connection.run(attachSql(this.target));
      await connection.run(`USE ${quoteIdent(LAKE_CATALOG)}`);
      await connection.run("SET SESSION TimeZone = 'UTC'");
      await connection.run(`SET disabled_optimizers = '${LAKE_DISABLED_OPTIMIZERS}'`);
      this.attached = { instance, connection };
      return this.attached;
    } catch (err) {
      instance.closeSync();
      throw attachError(this.path, err, this.secrets);
    }
  }

  private detach(): void {
    const attached = this.attached;
    this.attached = null;
    if (attached === null) return;
    try {
      attached.connection.closeSync();
      attached.instance.closeSync();
    } catch {
      // An invalidated instance may refuse to close cleanly; it is dropped either way.
    }
  }
}

/**
 * Optimisers every lake connection runs without. DuckLake 1.5.5 can keep a table's column
 * statistics wrong after a column's type was widened: a transaction that widens the column and
 * writes rows, then a later UPDATE, leaves min/max covering only the updated rows. DuckDB's
 * statistics propagation trusts them: a filter below that min reads no rows (`WHERE id < 3` gave
 * 0 rows of 2), a MERGE's join misses the stored row, and perfect-hash aggregates fail ("aggregate
 * group … exceeded total groups … statistics … corrupt"). Without it, plans read the data as it
 * is; scans still skip data files by their own statistics. Found by the differential tester
 * (PostgreSQL, seed 103, both pipelines in lakes); tested by ducklake-stats.test.ts.
 */
export const LAKE_DISABLED_OPTIMIZERS = 'statistics_propagation';

/**
 * `ATTACH 'ducklake:<catalog>' AS lake (DATA_PATH …)`, with the password added to the catalog's
 * libpq string.
 *
 * Writers turn DuckLake's data inlining off (`DATA_INLINING_ROW_LIMIT 0`: every commit writes
 * Parquet files, none of its rows go into the catalog database). DuckLake 1.5.5 fails with an
 * internal error ("Missing stats when merging inlined data") that invalidates the whole DuckDB
 * instance when one transaction updates inlined rows, changes the table's columns and updates
 * them again, which a batch with schema changes does. Measured here: 50 one-row MERGE commits
 * took 1.6 s without inlining against 1.0 s with it; the small files it leaves are compaction's.
 */
export function attachSql({ destination, password, readOnly, snapshotVersion }: LakeTarget): string {
  const catalog = password === undefined ? destination.catalog : `${destination.catalog} password=${libpqQuote(password)}`;
  const options = [`DATA_PATH ${quoteLiteral(destination.dataPath)}`];
  if (snapshotVersion !== undefined) options.push(`SNAPSHOT_VERSION ${Math.trunc(snapshotVersion)}`);
  options.push(...(readOnly === true || snapshotVersion !== undefined ? ['READ_ONLY'] : ['DATA_INLINING_ROW_LIMIT 0']));
  return `ATTACH ${quoteLiteral(`ducklake:${catalog}`)} AS ${quoteIdent(LAKE_CATALOG)} (${options.join(', ')})`;
}

/** A libpq connection-string value: single-quoted, with `\` and `'` escaped. */
function libpqQuote(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/**
 * Errors after which the attached lake cannot be trusted to work again: a broken link to the
 * catalog, or an internal error, after which DuckDB refuses every further statement. Not an
 * object store's answer (httpfs's "HTTP Error: Unable to connect to URL …: Not Found"), nor an
 * error already classified (a missing bucket): reattaching cannot fix those.
 */
function lostCatalog(err: unknown): boolean {
  return (
    err instanceof Error &&
    !(err instanceof DucktailError) &&
    /connection to server|server closed the connection|Unable to connect(?! to URL)|terminating connection|SSL SYSCALL|(INTERNAL|FATAL) Error|database has been invalidated/i.test(err.message)
  );
}

function runner(connection: DuckDBConnection, error: (err: unknown) => Error): SqlRunner {
  return {
    catalog: LAKE_CATALOG,
    async run(sql, params) {
      try {
        await connection.run(sql, params);
      } catch (err) {
        throw error(err);
      }
    },
    async rows(sql, params) {
      try {
        return (await connection.runAndReadAll(sql, params)).getRowObjectsJson();
      } catch (err) {
        throw error(err);
      }
    },
  };
}
