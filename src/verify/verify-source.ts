import { ConfigError } from '../errors.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import type { Classified } from './column-class.js';
import type { Dialect } from './dialect.js';
import type { Exec } from './table-side.js';

/** A source column and its comparison class (or why it has none). */
export interface SourceColumn {
  name: string;
  /** The source's type, for messages (`numeric(12,2)`, `int unsigned`). */
  type: string;
  classified: Classified;
}

/** A source table as the catalog shows it now. */
export interface SourceTable {
  /** `schema.table` (`database.table` for MySQL). */
  table: string;
  /** The qualified, quoted table for SQL. */
  from: string;
  columns: SourceColumn[];
  /** Primary-key column names in key order; empty when the table has none. */
  primaryKey: string[];
}

/** The pipeline's source database, read with plain queries (no slot, no binlog reader). */
export interface VerifySource {
  readonly dialect: Dialect;
  /** Every table the pipeline's `source.tables` selects that exists now, as `schema.table`, sorted. */
  tables(): Promise<string[]>;
  /** A table's columns and key now, or null when it does not exist. */
  describe(table: string): Promise<SourceTable | null>;
  exec: Exec;
  close(): Promise<void>;
}

/** The source password from the environment variable `source.passwordEnv` names, as the worker reads it. */
export function sourcePassword(spec: PipelineSpec, env: NodeJS.ProcessEnv): string | undefined {
  const name = spec.source.passwordEnv;
  if (name === undefined) return undefined;
  const value = env[name];
  if (value === undefined) {
    throw new ConfigError(
      `pipeline ${spec.name}: source.passwordEnv names ${name}, but this environment has no ${name}`,
      `export ${name}=... before running ducktail verify`,
    );
  }
  return value;
}
