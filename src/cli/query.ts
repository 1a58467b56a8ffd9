import { access } from 'node:fs/promises';
import type { Json } from '@duckdb/node-api';
import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import type { DucktailConfig } from '../config/load-config.js';
import { lakePassword } from '../composition.js';
import { DuckLakeSession } from '../destinations/ducklake/ducklake-session.js';
import { ConfigError, DucktailError } from '../errors.js';
import { describeDestination, isLake, type DuckLakeDestinationSpec, type PipelineSpec } from '../model/pipeline-spec.js';
import { DuckReader } from '../verify/duckdb-reader.js';
import { selectPipelines } from './context.js';

export interface QueryOptions {
  pipeline?: string;
  json: boolean;
  csv: boolean;
}

/**
 * `ducktail query "SQL"`: runs read-only SQL on a pipeline's DuckDB file or DuckLake with the
 * bundled DuckDB, while the pipeline runs. Returns the text to print: a table, JSON or CSV.
 */
export async function runQuery(config: DucktailConfig, sql: string, opts: QueryOptions): Promise<string> {
  const spec = pickPipeline(config, opts.pipeline);
  let result;
  try {
    result = await (isLake(spec.destination) ? queryLake(spec, spec.destination, sql) : queryFile(spec, spec.destination.path, sql));
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
    return await reader.withFile((f) => f.table(sql));
  } finally {
    await reader.close();
  }
}

/** The lake attached read-only: the query sees the last committed snapshot and never delays a load. */
async function queryLake(spec: PipelineSpec, destination: DuckLakeDestinationSpec, sql: string): Promise<QueryTable> {
  const password = lakePassword(spec);
  const session = await DuckLakeSession.open({ destination, readOnly: true, ...(password === undefined ? {} : { password }) });
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
