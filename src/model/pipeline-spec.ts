/**
 * A pipeline as plain JSON: the workflow's input. Complete (defaults resolved) and free of
 * secrets: passwords and storage keys are read by the worker from the environment variables
 * `passwordEnv` (and a lake's `storage.keyIdEnv`, `secretEnv`, `sessionTokenEnv`) name.
 */
export interface PipelineSpec {
  name: string;
  source: SourceSpec;
  destination: DestinationSpec;
  /** `merge`: one row per key (soft deletes); `append`: one row per change. */
  mode: WriteMode;
  /** What to do in merge mode with a table that has no primary key. */
  keyless: 'error' | 'append';
  batch: BatchLimits;
  snapshot: SnapshotSpec;
  /** The retention guard; absent in specs of older versions (defaults apply, see `retentionSettings`). */
  retention?: RetentionSpec;
}

export type WriteMode = 'merge' | 'append';

export type SourceSpec = PostgresSourceSpec | MysqlSourceSpec;

interface ConnectionSpec {
  host: string;
  port: number;
  user: string;
  /** Name of the worker environment variable holding the password (never the password itself). */
  passwordEnv?: string;
  /** `schema.table` names; `schema.*` selects every table of a schema, including ones created later. */
  tables: string[];
}

export interface PostgresSourceSpec extends ConnectionSpec {
  kind: 'postgres';
  database: string;
  slot: string;
  publication: string;
  ssl: boolean;
}

export interface MysqlSourceSpec extends ConnectionSpec {
  kind: 'mysql';
  /** Replica server id used for the binlog connection; unique per server. */
  serverId: number;
}

/** Where a pipeline loads: a DuckDB file (the default when `kind` is absent) or a DuckLake. */
export type DestinationSpec = DuckDBDestinationSpec | DuckLakeDestinationSpec;

export interface DuckDBDestinationSpec {
  /** Absent in specs of older versions and in resolved specs: a DuckDB file is the default. */
  kind?: 'duckdb';
  /** DuckDB database file. */
  path: string;
}

/** A DuckLake: a SQL catalog (PostgreSQL) plus Parquet data files, written by any number of workers. */
export interface DuckLakeDestinationSpec {
  kind: 'ducklake';
  /** DuckLake catalog, e.g. `postgres:dbname=lake host=db.internal user=ducktail` (no password). */
  catalog: string;
  /** Where the lake's data files live: an absolute directory or a URL (e.g. `s3://bucket/lake/`). */
  dataPath: string;
  /** Name of the worker environment variable holding the catalog password (never the password itself). */
  passwordEnv?: string;
  /** Compaction, snapshot expiry and file cleanup on a Temporal Schedule; false: none. Absent in specs of older versions (defaults apply, see `upkeepSettings`). */
  upkeep?: LakeUpkeepSpec | false;
  /** How to reach an `s3://` dataPath (endpoint, region, the names of the credential variables); absent: DuckDB's own settings and secrets. */
  storage?: LakeStorageSpec;
}

/**
 * An S3-compatible object store for a lake's data files (AWS S3, MinIO, Cloudflare R2, GCS's
 * interoperability endpoint). Only the names of environment variables: the worker reads the keys.
 */
export interface LakeStorageSpec {
  kind: 's3';
  /** e.g. `us-east-1` (DuckDB's default when absent). */
  region?: string;
  /** `host[:port]` of a store other than AWS S3, e.g. `minio:9000` or `storage.googleapis.com`. */
  endpoint?: string;
  /** `path` (`endpoint/bucket/key`, MinIO) or `vhost` (`bucket.endpoint/key`, DuckDB's default). */
  urlStyle?: 'path' | 'vhost';
  /** False for a plain-http endpoint (DuckDB's default: true). */
  useSsl?: boolean;
  /** Name of the worker environment variable holding the access key id. */
  keyIdEnv: string;
  /** Name of the worker environment variable holding the secret access key. */
  secretEnv: string;
  /** Name of the worker environment variable holding a session token (temporary credentials). */
  sessionTokenEnv?: string;
}

/** Lake upkeep: how often it runs and what it keeps (intervals such as `1h`, `7d`). */
export interface LakeUpkeepSpec {
  /** How often upkeep runs. */
  every: string;
  /** Snapshots (time travel, `--as-of-position`) younger than this are kept. */
  keepSnapshots: string;
  /** Files the lake no longer uses are deleted once they are this old (a long query may still read them). */
  keepFiles: string;
}

export const DEFAULT_LAKE_UPKEEP: LakeUpkeepSpec = { every: '1h', keepSnapshots: '7d', keepFiles: '1d' };

/** The lake's upkeep settings (defaults for specs of older versions); null when turned off. */
export function upkeepSettings(destination: DuckLakeDestinationSpec): LakeUpkeepSpec | null {
  return destination.upkeep === false ? null : { ...DEFAULT_LAKE_UPKEEP, ...destination.upkeep };
}

/** A pipeline that loads a DuckDB file. */
export type DuckDBPipelineSpec = PipelineSpec & { destination: DuckDBDestinationSpec };

/** Narrows a destination to a DuckLake. */
export function isLake(destination: DestinationSpec): destination is DuckLakeDestinationSpec {
  return destination.kind === 'ducklake';
}

/** The destination in one line, for status and messages: the DuckDB file, or `ducklake:<catalog> (data <dataPath>)`. */
export function describeDestination(destination: DestinationSpec): string {
  return isLake(destination) ? `ducklake:${destination.catalog} (data ${destination.dataPath})` : destination.path;
}

export interface BatchLimits {
  /** A batch closes at this many changes (at a transaction boundary unless one transaction is larger). */
  maxRows: number;
  /** ... or at this many staged bytes. */
  maxBytes: number;
  /** ... or this long after its first change. */
  maxWaitMs: number;
  /**
   * A capture that finds nothing keeps waiting this long (long poll, in slices of a few seconds),
   * so an idle pipeline writes little history; a change ends it at once, and the workflow
   * interrupts it to take in a pause, stop or re-sync request.
   */
  idleWaitMs: number;
}

export interface SnapshotSpec {
  /** Copy existing rows before streaming. */
  enabled: boolean;
  /** Rows per snapshot chunk (each chunk is one batch, resumable after a crash). */
  chunkRows: number;
}

export interface RetentionSpec {
  /** `status` warns when the source keeps more WAL / binlog than this for the pipeline. */
  warnBytes: number;
  /** While paused, how often the worker measures what the source keeps (it is measured with every batch otherwise). */
  checkSeconds: number;
}
