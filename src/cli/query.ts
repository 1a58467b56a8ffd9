import { access } from 'node:fs/promises';
import type { Json } from '@duckdb/node-api';
import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import type { DucktailConfig } from '../config/load-config.js';
import { lakeSecrets } from '../composition.js';
import { snapshotAsOf } from '../destinations/ducklake/ducklake-as-of.js';
import { POSITION_FORMS, parseUserPosition } from '../destinations/ducklake/ducklake-positions.js';
import { DuckLakeSession } from '../destinations/ducklake/ducklake-session.js';
import { ConfigError, DucktailError } from '../errors.js';
import { describeDestination, isLake, type DuckLakeDestinationSpec, type PipelineSpec } from '../model/pipeline-spec.js';
import type { Position } from '../model/position.js';
import { DuckReader } from '../verify/duckdb-reader.js';
import { selectPipelines } from './context.js';

export interface QueryOptions {
  pipeline?: string;
  json: boolean;
  csv: boolean;
  /** Lakes only: read every table as of the newest commit of the pipeline at or before this source position. */
  asOfPosition?: string;
  /** Lakes only: read every table as of this lake snapshot id. */
  asOfSnapshot?: string;
}

/**
 * `ducktail query "SQL"`: runs read-only SQL on a pipeline's DuckDB file or DuckLake with the
 * bundled DuckDB, while the pipeline runs. Returns the text to print: a table, JSON or CSV.
 */
export async function runQuery(config: DucktailConfig, sql: string, opts: QueryOptions): Promise<string> {
  if (opts.asOfPosition !== undefined && opts.pipeline === undefined && config.pipelines.length > 1) {
    throw new ConfigError('--as-of-position needs the pipeline whose position it is', `pass --pipeline NAME (one of ${config.pipelines.map((p) => p.name).join(', ')})`);
  }
  const spec = pickPipeline(config, opts.pipeline);
  const asOf = parseAsOf(spec, opts);
  let result;
  try {
    result = await (isLake(spec.destination) ? queryLake(spec, spec.destination, sql, asOf) : queryFile(spec, spec.destination.path, sql));
  } catch (err) {
    if (err instanceof DucktailError) throw err;
    const message = (err as Error).message;
    if (/read-only mode/i.test(message)) throw new ConfigError(`query only reads: ${message}`, 'run SELECT (or DESCRIBE, SHOW, SUMMARIZE) statements; the pipeline alone writes its tables');
    throw new ConfigError(`the query failed: ${message}`, 'fix the SQL (tables are named schema.table, e.g. public.orders)');
  }
  const { columns, rows } = result;
  if (opts.json) return JSON.stringify(rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i] ?? null]))), null, 2);
  if (opts.csv) return stringify([columns, ...rows.map((r) => r.map(cell))]).trimEnd();
  const table = new Table({ head: columns, style: { head: [], border: [] } });
  for (const r of rows) table.push(r.map((v) => (v === null ? 'NULL' : cell(v))));
  return `${table.toString()}\n${rows.length} ${rows.length === 1 ? 'row' : 'rows'}`;
}

type QueryTable = { columns: string[]; rows: Json[][] };

/** The DuckDB file opened read-only, retrying while the worker holds it, and kept only for the query. */
async function queryFile(spec: PipelineSpec, file: string, sql: string): Promise<QueryTable> {
  try {
    await access(file);
  } catch {
    throw new ConfigError(`DuckDB file ${file} of pipeline ${spec.name} does not exist yet`, `start the pipeline (ducktail start ${spec.name}) and query once it has loaded something`);
  }
  const reader = new DuckReader(file, { holdMs: 60_000, busyTimeoutMs: 60_000 });
  try {
    return await reader.withCopy((f) => f.table(sql));
  } finally {
    await reader.close();
  }
}

type AsOf = { position: Position } | { snapshot: number } | null;

/** The `--as-of-…` option, checked before anything is opened. */
function parseAsOf(spec: PipelineSpec, opts: QueryOptions): AsOf {
  const { asOfPosition, asOfSnapshot } = opts;
  if (asOfPosition === undefined && asOfSnapshot === undefined) return null;
  if (asOfPosition !== undefined && asOfSnapshot !== undefined) throw new ConfigError('--as-of-position and --as-of-snapshot exclude each other', 'pass one of them');
  if (!isLake(spec.destination)) {
    throw new ConfigError(
      `pipeline ${spec.name} writes the DuckDB file ${spec.destination.path}: reading as of a position is a DuckLake feature`,
      'query without --as-of-position/--as-of-snapshot, or replicate into a lake (destination: { kind: ducklake, … })',
    );
  }
  if (asOfSnapshot !== undefined) {
    if (!/^\d+$/.test(asOfSnapshot.trim())) throw new ConfigError(`--as-of-snapshot ${asOfSnapshot} is not a snapshot id`, 'pass a snapshot id (a whole number, as lake.snapshots() lists them)');
    return { snapshot: Number(asOfSnapshot.trim()) };
  }
  const position = parseUserPosition(asOfPosition ?? '');
  if (position === null) throw new ConfigError(`--as-of-position ${JSON.stringify(asOfPosition)} is not a source position`, `pass ${POSITION_FORMS}, as ducktail status shows it`);
  return { position };
}

/**
 * The lake attached read-only: the query sees the last committed snapshot and never delays a load.
 * As of a position: the newest snapshot in which the pipeline's recorded position is at or before
 * it, attached at that version, so every table (unqualified names included) reads as of it.
 */
async function queryLake(spec: PipelineSpec, destination: DuckLakeDestinationSpec, sql: string, asOf: AsOf): Promise<QueryTable> {
  const target = { destination, readOnly: true, ...lakeSecrets(spec) };
  let snapshotVersion: number | undefined;
  if (asOf !== null) {
    if ('snapshot' in asOf) snapshotVersion = asOf.snapshot;
    else {
      const finder = await DuckLakeSession.open(target);
      try {
        snapshotVersion = (await snapshotAsOf(finder, spec.name, asOf.position)).snapshot;
      } finally {
        await finder.close();
      }
    }
  }
  const session = await DuckLakeSession.open(snapshotVersion === undefined ? target : { ...target, snapshotVersion });
  try {
    return await session.table(sql);
  } finally {
    await session.close();
  }
}

/** The named pipeline, or the only destination of the config. */
function pickPipeline(config: DucktailConfig, name: string | undefined): PipelineSpec {
  if (name !== undefined) return selectPipelines(config, [name])[0]!;
  const files = new Set(config.pipelines.map((p) => describeDestination(p.destination)));
  if (files.size === 1 && config.pipelines[0] !== undefined) return config.pipelines[0];
  throw new ConfigError(
    `the config has ${files.size} destinations: say which to query`,
    `pass --pipeline NAME (one of ${config.pipelines.map((p) => p.name).join(', ')})`,
  );
}

function cell(v: Json): string {
  if (v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
