import type { DuckDBValue, Json } from '@duckdb/node-api';
import type { SqlRunner } from '../destinations/duckdb/duckdb-connection.js';
import { DuckLakeSession, LAKE_CATALOG, type LakeSecrets } from '../destinations/ducklake/ducklake-session.js';
import { describeDestination, type DuckLakeDestinationSpec } from '../model/pipeline-spec.js';
import { pinnedCopy, type CopyReader, type PinnedCopy } from './copy-reader.js';

/**
 * Reads a pipeline's DuckLake through a read-only session, held open throughout: a lake takes
 * readers beside its writers, so nothing waits. Each call is one lake transaction and so reads
 * one snapshot, the newest committed when it starts: `withCopy` sees the rows and the
 * checkpoint a single commit left, and a later call sees the loads committed meanwhile.
 */
export class LakeReader implements CopyReader {
  readonly path: string;

  private constructor(private readonly session: DuckLakeSession, destination: DuckLakeDestinationSpec) {
    this.path = describeDestination(destination);
  }

  /** Attaches the lake read-only now, so a lake that cannot be read fails here. */
  static async open(destination: DuckLakeDestinationSpec, secrets: LakeSecrets): Promise<LakeReader> {
    const session = await DuckLakeSession.open({ destination, readOnly: true, ...secrets });
    return new LakeReader(session, destination);
  }

  rows(sql: string, params?: DuckDBValue[]): Promise<Json[][]> {
    return this.withCopy((copy) => copy.rows(sql, params));
  }

  withRunner<T>(work: (db: SqlRunner) => Promise<T>): Promise<T> {
    return this.withCopy((copy) => work(copy.runner));
  }

  withCopy<T>(work: (copy: PinnedCopy) => Promise<T>): Promise<T> {
    return this.session.transaction((connection) => work(pinnedCopy(connection, LAKE_CATALOG)));
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
