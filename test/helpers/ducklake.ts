import { randomBytes } from 'node:crypto';
import { lakeExtensionsInstalled } from '../../src/destinations/ducklake/ducklake-extensions.js';
import type { DuckLakeDestinationSpec } from '../../src/model/pipeline-spec.js';
import { pgConnect, PG_HOST, PG_PORT, PG_USER } from './postgres.js';

/**
 * False when the lake tests can run; else why not (node:test's `skip` takes the message). The
 * extensions come from `npm run setup`; without them DuckDB would download them at run time.
 */
export const LAKE_SKIP: false | string = lakeExtensionsInstalled()
  ? false
  : 'DuckDB ducklake/postgres_scanner extensions are not in .tools/duckdb-extensions: run npm run setup';

/** A DuckLake whose catalog is a fresh PostgreSQL database; `drop` removes the database. */
export interface TestLake {
  destination: DuckLakeDestinationSpec;
  database: string;
  drop(): Promise<void>;
}

/** A new lake: a unique catalog database on the local PostgreSQL (`database`, or a random name), data files under `dataPath`. */
export async function createTestLake(dataPath: string, database = `ducktail_lake_${randomBytes(4).toString('hex')}`): Promise<TestLake> {
  const admin = await pgConnect();
  try {
    await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  return {
    database,
    destination: { kind: 'ducklake', catalog: `postgres:dbname=${database} host=${PG_HOST} port=${PG_PORT} user=${PG_USER}`, dataPath },
    async drop() {
      const client = await pgConnect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
