import pg from 'pg';
import type { PostgresSourceSpec } from '../../model/pipeline-spec.js';
import { toDucktailError } from './postgres-errors.js';

/**
 * Session settings that make every text value deterministic and exact: UTC timestamps, ISO dates,
 * `postgres` intervals, shortest-exact floats and hex bytea. They also apply on replication
 * connections, where pgoutput prints the values.
 */
export const SESSION_OPTIONS =
  '-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 -c bytea_output=hex';

/** `pg` client settings for `spec`. The password comes from the worker, never from the spec. */
export function pgClientConfig(spec: PostgresSourceSpec, password: string | undefined): pg.ClientConfig {
  return {
    host: spec.host,
    port: spec.port,
    database: spec.database,
    user: spec.user,
    password,
    ssl: spec.ssl ? { rejectUnauthorized: false } : false,
    options: SESSION_OPTIONS,
    application_name: `ducktail:${spec.slot}`,
    connectionTimeoutMillis: 15_000,
    keepAlive: true,
  };
}

/** Per-query type override: every value comes back as PostgreSQL's own text (no global parsers). */
export const TEXT_TYPES = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

/** Opens a client, turning connection failures into `SourceConnectionError`s with a fix. */
export async function connectPg(config: pg.ClientConfig, what = 'PostgreSQL'): Promise<pg.Client> {
  const client = new pg.Client(config);
  // An idle client whose server goes away emits 'error'; without a listener Node would crash.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw toDucktailError(e, { doing: `connecting to ${what} at ${config.host}:${config.port}/${config.database}` });
  }
  return client;
}

/** Quotes an identifier: `"my ""odd"" name"`. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes `schema.table` (split at the first dot). */
export function quoteTable(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** Quotes a string literal for the replication protocol, where parameters are not available. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
