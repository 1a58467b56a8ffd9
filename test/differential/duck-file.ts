import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const literal = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** A DuckDB table as it exists in the file. */
export interface DuckTable {
  schema: string;
  name: string;
  /** Column name → DuckDB type, in table order. */
  columns: Map<string, string>;
}

/**
 * A DuckDB file opened read-only after the worker has stopped, so the test never holds it while a
 * pipeline writes. Values are read as text (`CAST … AS VARCHAR`, BLOB as hex) in UTC.
 */
export class DuckFile {
  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  static async open(path: string): Promise<DuckFile> {
    const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
    const conn = await instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    return new DuckFile(path, instance, conn);
  }

  async rows(sql: string): Promise<unknown[][]> {
    return (await this.conn.runAndReadAll(sql)).getRows();
  }

  async hasTable(schema: string, name: string): Promise<boolean> {
    const rows = await this.rows(`SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ${literal(schema)} AND table_name = ${literal(name)}`);
    return rows.length > 0;
  }

  /**
   * The table DuckDB resolves `schema.name` to: the exact spelling if it exists, else the one a
   * case-insensitive lookup finds (as a query naming it would). Null when there is none.
   */
  async table(schema: string, name: string): Promise<DuckTable | null> {
    const found = await this.rows(
      `SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()
         AND lower(schema_name) = lower(${literal(schema)}) AND lower(table_name) = lower(${literal(name)})
       ORDER BY (schema_name = ${literal(schema)} AND table_name = ${literal(name)}) DESC`,
    );
    const first = found[0];
    if (first === undefined) return null;
    const [s, t] = first as [string, string];
    const cols = await this.rows(
      `SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database()
         AND schema_name = ${literal(s)} AND table_name = ${literal(t)} ORDER BY column_index`,
    );
    return { schema: s, name: t, columns: new Map(cols.map((c) => [String(c[0]), String(c[1])])) };
  }

  /**
   * Every row of `table` in insertion order (`rowid`), with the named columns as text. A name the
   * table lacks (or `undefined`) reads as `undefined`. Names are matched exactly when `exact`,
   * else case-insensitively as a query naming them would.
   */
  async readRows(table: DuckTable, columns: (string | undefined)[], exact = false): Promise<{ rowid: bigint; values: (string | null | undefined)[] }[]> {
    const actual = columns.map((c) => (c === undefined ? undefined : resolveColumn(table, c, exact)));
    const exprs = actual.map((a, i) => {
      if (a === undefined) return `NULL AS c${i}`;
      const type = table.columns.get(a) ?? '';
      return type === 'BLOB' ? `lower(hex(${quote(a)})) AS c${i}` : `CAST(${quote(a)} AS VARCHAR) AS c${i}`;
    });
    const rows = await this.rows(`SELECT rowid${exprs.map((e) => `, ${e}`).join('')} FROM ${quote(table.schema)}.${quote(table.name)} ORDER BY rowid`);
    return rows.map((r) => ({
      rowid: BigInt(r[0] as bigint | number),
      values: r.slice(1).map((v, i) => (actual[i] === undefined ? undefined : v === null ? null : String(v as string))),
    }));
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/** The DuckDB column a name resolves to: exact spelling first, else (unless `exact`) case-insensitive. */
export function resolveColumn(table: DuckTable, name: string, exact = false): string | undefined {
  if (table.columns.has(name)) return name;
  return exact ? undefined : [...table.columns.keys()].find((c) => c.toLowerCase() === name.toLowerCase());
}
