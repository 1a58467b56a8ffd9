import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { PG_HOST, PG_PORT, PG_USER, pgConnect } from '../test/helpers/postgres.js';
import { pgSource } from './pg-workload.js';

/** The catalog database of the benchmark's lake: one lake at a time, dropped at the end. */
export const LAKE_DB = 'ducktail_bench_lake_workers';

export async function dropBenchLake(): Promise<void> {
  const admin = await pgConnect();
  await admin.query(`DROP DATABASE IF EXISTS ${LAKE_DB} WITH (FORCE)`).finally(() => admin.end());
}

/**
 * A fresh, empty lake (its catalog database created anew on the local PostgreSQL, data files in
 * `dataPath`): the destination block of a ducktail.yaml. Upkeep is off: its schedule would
 * compete with the loads measured.
 */
export async function createBenchLake(dataPath: string): Promise<Record<string, unknown>> {
  await dropBenchLake();
  const admin = await pgConnect();
  await admin.query(`CREATE DATABASE ${LAKE_DB}`).finally(() => admin.end());
  return { kind: 'ducklake', catalog: `postgres:dbname=${LAKE_DB} host=${PG_HOST} port=${PG_PORT} user=${PG_USER}`, dataPath, upkeep: false };
}

export interface LakeConfig {
  /** The pipelines are `<name>_1`…, one per table, on the task queue `bench-<name>`. */
  name: string;
  tables: string[];
  destination: Record<string, unknown>;
  mode: 'merge' | 'append';
}

/** Writes a ducktail.yaml in `dir` whose pipelines, one per benchmark table, all load one lake from one task queue. */
export async function writeLakeConfig(dir: string, config: LakeConfig): Promise<string> {
  const configFile = path.join(dir, 'ducktail.yaml');
  const pipelines = config.tables.map((table, i) => ({
    name: `${config.name}_${i + 1}`,
    source: pgSource([table]),
    destination: config.destination,
    mode: config.mode,
  }));
  await writeFile(configFile, stringify({ temporal: { taskQueue: `bench-${config.name}` }, pipelines }));
  return configFile;
}
