import type pg from 'pg';
import { TableNotFoundError } from '../../errors.js';
import type { ColumnSchema, TableSchema } from '../../model/table-schema.js';
import type { TableRef, TableSelection } from '../table-selection.js';
import { singleArrayElement } from './postgres-array.js';
import type { DdlColumn } from './postgres-ddl.js';
import { pgColumn, type PgColumn, type PgTypeInfo, type ValueWarning } from './postgres-types.js';

/** A table's staged shape and the converters for its values, in column order. */
export interface PgTable {
  schema: TableSchema;
  columns: PgColumn[];
}

/** One column as pgoutput or the catalog describes it. */
export interface RawColumn {
  name: string;
  typeOid: number;
  typeMod: number;
}

/** A table found in the catalog. */
export interface CatalogTable {
  oid: number;
  schema: string;
  name: string;
  /** `pg_class.relreplident`: d default, n nothing, f full, i index. */
  replicaIdentity: string;
  columns: RawColumn[];
  primaryKey: string[];
}

/**
 * What rows that existed before a column was added read: the missing value PostgreSQL stores for
 * `ADD COLUMN … DEFAULT <non-volatile>` (it writes no row changes), NULL for a column without a
 * default; unknown when the column has a default but no missing value (a volatile default or an
 * identity rewrote the table without change events).
 */
function backfillOf(
  attr: { atthasmissing: boolean; missing: string | null; has_default: boolean },
  convert: (text: string) => string | null,
): Pick<ColumnSchema, 'backfill' | 'backfillUnknown'> {
  if (attr.atthasmissing && attr.missing !== null) {
    const element = singleArrayElement(attr.missing);
    return { backfill: element === null ? null : convert(element) };
  }
  return attr.has_default ? { backfillUnknown: true } : {};
}

interface TypeRow {
  oid: number;
  typname: string;
  typtype: string;
  typcategory: string;
  typelem: number;
  typbasetype: number;
  typtypmod: number;
}

/**
 * Catalog lookups on a normal connection, cached: type details per OID (pgoutput relation messages
 * carry only OIDs and typmods) and table columns / keys. Types never change under an OID; table
 * details are re-read whenever asked, since they are only needed when a relation message arrives.
 */
export class PgCatalog {
  private readonly types = new Map<number, Promise<PgTypeInfo>>();
  private readonly formatted = new Map<string, Promise<string>>();

  constructor(
    private readonly client: pg.Client,
    private readonly warn: ValueWarning,
  ) {}

  /** A table by name, or null when it does not exist. Generated columns are left out, as pgoutput does. */
  async table(schema: string, name: string): Promise<CatalogTable | null> {
    const rel = await this.client.query<{ oid: number; relreplident: string }>(
      `SELECT c.oid, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [schema, name],
    );
    const row = rel.rows[0];
    if (row === undefined) return null;
    const cols = await this.client.query<{ attname: string; atttypid: number; atttypmod: number }>(
      `SELECT attname, atttypid, atttypmod FROM pg_attribute
        WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
      [row.oid],
    );
    return {
      oid: row.oid,
      schema,
      name,
      replicaIdentity: row.relreplident,
      columns: cols.rows.map((c) => ({ name: c.attname, typeOid: c.atttypid, typeMod: c.atttypmod })),
      primaryKey: await this.primaryKey(row.oid),
    };
  }

  /** Primary key columns in key order (empty when none). */
  async primaryKey(relOid: number): Promise<string[]> {
    const res = await this.client.query<{ attname: string }>(
      `SELECT a.attname FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord), pg_attribute a
        WHERE i.indrelid = $1 AND i.indisprimary AND a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord`,
      [relOid],
    );
    return res.rows.map((r) => r.attname);
  }

  /**
   * Builds the staged shape of `table` from its columns (from the catalog or a relation message),
   * with each column's `attnum` as its id and what rows older than the column read (its missing
   * value, see `backfillOf`), looked up by name in the catalog as it is now.
   */
  async build(table: string, relOid: number, columns: RawColumn[], primaryKey: string[], known?: DdlColumn[]): Promise<PgTable> {
    // `known` (the DDL trigger's facts, or none at all) decides ids and missing values; array
    // dimensions, which a column keeps for life, may come from the catalog as it is now.
    const catalog = known !== undefined && known.length > 0 ? known : await this.attributes(relOid);
    const dims = new Map(catalog.map((r) => [r.attname, r.attndims]));
    const byName = new Map((known ?? catalog).map((r) => [r.attname, r]));
    const built: PgColumn[] = [];
    for (const c of columns) {
      const [type, sourceType] = await Promise.all([this.type(c.typeOid), this.formatType(c.typeOid, c.typeMod)]);
      const warn: ValueWarning = (m) => this.warn(`${table}.${c.name}: ${m}`);
      const attr = byName.get(c.name);
      const column = pgColumn(c.name, type, c.typeMod, dims.get(c.name) ?? 0, sourceType, warn);
      // The catalog is read now, the stream may be behind: a column renamed, dropped or retyped
      // since has no trustworthy id or missing value here.
      if (attr !== undefined && attr.atttypid === c.typeOid) Object.assign(column.schema, { id: attr.attnum }, backfillOf(attr, column.convert));
      else column.schema.backfillUnknown = true;
      built.push(column);
    }
    return { schema: { table, columns: built.map((c) => c.schema), primaryKey }, columns: built };
  }

  /** The live columns' catalog facts, as the DDL trigger describes them (see postgres-ddl.ts). */
  private async attributes(relOid: number): Promise<DdlColumn[]> {
    const res = await this.client.query<DdlColumn>(
      `SELECT a.attname, a.attnum, a.atttypid, a.atttypmod, a.attndims, a.atthasmissing, a.attmissingval::text AS missing,
              (a.atthasdef OR a.attidentity <> '') AS has_default
         FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped`,
      [relOid],
    );
    return res.rows;
  }

  /** Type details, with array element and domain base resolved. */
  type(oid: number): Promise<PgTypeInfo> {
    let found = this.types.get(oid);
    if (found === undefined) {
      found = this.loadType(oid);
      this.types.set(oid, found);
      found.catch(() => this.types.delete(oid));
    }
    return found;
  }

  /** `format_type(oid, typmod)`, e.g. `numeric(12,2)`. */
  formatType(oid: number, typmod: number): Promise<string> {
    const key = `${oid}:${typmod}`;
    let found = this.formatted.get(key);
    if (found === undefined) {
      found = this.client
        .query<{ t: string }>('SELECT format_type($1, $2) AS t', [oid, typmod < 0 ? null : typmod])
        .then((r) => r.rows[0]?.t ?? `oid ${oid}`);
      this.formatted.set(key, found);
      found.catch(() => this.formatted.delete(key));
    }
    return found;
  }

  private async loadType(oid: number): Promise<PgTypeInfo> {
    const res = await this.client.query<TypeRow>(
      'SELECT oid, typname, typtype, typcategory, typelem, typbasetype, typtypmod FROM pg_type WHERE oid = $1',
      [oid],
    );
    const row = res.rows[0];
    if (row === undefined) return { oid, name: `oid${oid}`, typtype: 'b', category: 'U', elem: null, base: null, baseTypmod: -1 };
    return {
      oid,
      name: row.typname,
      typtype: row.typtype,
      category: row.typcategory,
      elem: row.typcategory === 'A' && row.typelem !== 0 ? await this.type(row.typelem) : null,
      base: row.typtype === 'd' && row.typbasetype !== 0 ? await this.type(row.typbasetype) : null,
      baseTypmod: row.typtypmod,
    };
  }
}

/**
 * Every selected table that exists now, sorted. Throws `TableNotFoundError` for a named table or
 * wildcard schema that does not exist, listing similar names.
 */
export async function listSelectedTables(client: pg.Client, selection: TableSelection): Promise<TableRef[]> {
  const res = await client.query<{ nspname: string; relname: string }>(
    `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY 1, 2`,
  );
  const selected = selection.pick(res.rows.map((r) => ({ schema: r.nspname, name: r.relname })));
  for (const s of selection.wildcards) {
    const ns = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [s]);
    if (ns.rowCount === 0) throw new TableNotFoundError(`schema ${s} (from ${s}.*) does not exist`, 'create it or fix source.tables');
  }
  return selected;
}
