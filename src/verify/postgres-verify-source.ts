import type { PostgresSourceSpec } from '../model/pipeline-spec.js';
import { splitTableName } from '../model/table-schema.js';
import { listSelectedTables, PgCatalog } from '../sources/postgres/postgres-catalog.js';
import { connectPg, pgClientConfig, quoteTable, TEXT_TYPES } from '../sources/postgres/postgres-connection.js';
import { toDucktailError } from '../sources/postgres/postgres-errors.js';
import { TableSelection } from '../sources/table-selection.js';
import { postgresDialect } from './dialect-postgres.js';
import { classifyPgColumn } from './postgres-columns.js';
import type { SourceColumn, VerifySource } from './verify-source.js';

/**
 * A PostgreSQL source for verify: one connection with the pipeline's session settings (UTC, ISO
 * dates, exact floats, hex bytea), so values print as the pipeline staged them.
 */
export async function openPostgresVerifySource(spec: PostgresSourceSpec, password: string | undefined): Promise<VerifySource> {
  const client = await connectPg({ ...pgClientConfig(spec, password), application_name: `ducktail-verify:${spec.slot}` });
  try {
    const encoding = (await client.query<{ e: string }>("SELECT current_setting('server_encoding') AS e")).rows[0]?.e ?? 'UTF8';
    const catalog = new PgCatalog(client, () => undefined);
    const selection = new TableSelection(spec.tables);
    return {
      dialect: postgresDialect(encoding.toUpperCase() === 'UTF8'),
      async tables() {
        return (await listSelectedTables(client, selection)).map((t) => `${t.schema}.${t.name}`);
      },
      async describe(table) {
        const { schema, name } = splitTableName(table);
        const found = await catalog.table(schema, name);
        if (found === null) return null;
        const columns: SourceColumn[] = [];
        for (const c of found.columns) {
          const [type, sourceType] = await Promise.all([catalog.type(c.typeOid), catalog.formatType(c.typeOid, c.typeMod)]);
          columns.push({ name: c.name, type: sourceType, classified: classifyPgColumn(type, c.typeMod) });
        }
        return { table, from: quoteTable(schema, name), columns, primaryKey: found.primaryKey };
      },
      async exec({ sql, params }) {
        try {
          const res = await client.query<(string | null)[]>({ text: sql, values: params, rowMode: 'array', types: TEXT_TYPES });
          return res.rows;
        } catch (e) {
          throw toDucktailError(e, { doing: 'comparing rows' });
        }
      },
      async close() {
        await client.end().catch(() => undefined);
      },
    };
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
}
