import { DuckDBInstance } from '@duckdb/node-api';
import { DuckLakeSession } from '../../src/destinations/ducklake/ducklake-session.js';
import { describeDestination, isLake, type DestinationSpec, type DuckLakeDestinationSpec } from '../../src/model/pipeline-spec.js';

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const literal = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** A DuckDB table as it exists in the copy. */
export interface DuckTable {
  schema: string;
  name: string;
  /** Column name → DuckDB type, in table order. */
  columns: Map<string, string>;
}

/** How one kind of destination answers a query: rows as arrays of values, in select order. */
interface CopyReader {
  rows(sql: string): Promise<unknown[][]>;
  close(): Promise<void>;
}

/**
 * A pipeline's copy opened read-only after the worker has stopped, so the test never holds it
 * while a pipeline writes: a DuckDB file, or a DuckLake attached through Ducktail's own lake
 * session (the lake is the default catalog there, so the same SQL reads both). Values are read as
 * text (`CAST … AS VARCHAR`, BLOB as hex) in UTC; only how a query runs differs by kind.
 */
export class DuckCopy {
  private constructor(
    /** The destination in one line, for reports. */
    readonly path: string,
    private readonly reader: CopyReader,
  ) {}

  /** The copy of `destination`: a DuckDB file or a lake. */
  static open(destination: DestinationSpec): Promise<DuckCopy> {
    return isLake(destination) ? DuckCopy.openLake(destination) : DuckCopy.openFile(destination.path);
  }

  static async openFile(path: string): Promise<DuckCopy> {
    const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
    const conn = await instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    return new DuckCopy(path, {
      rows: async (sql) => (await conn.runAndReadAll(sql)).getRows(),
      close: () => {
        conn.closeSync();
        instance.closeSync();
        return Promise.resolve();
      },
    });
  }

  /** The lake attached read-only: its last committed snapshot (values come back as JSON: BIGINT as text). */
  static async openLake(destination: DuckLakeDestinationSpec): Promise<DuckCopy> {
    const session = await DuckLakeSession.open({ destination, readOnly: true });
    return new DuckCopy(describeDestination(destination), {
      rows: async (sql) => (await session.table(sql)).rows,
      close: () => session.close(),
    });
  }

  rows(sql: string): Promise<unknown[][]> {
    return this.reader.rows(sql);
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
      rowid: BigInt(r[0] as bigint | number | string),
      values: r.slice(1).map((v, i) => (actual[i] === undefined ? undefined : v === null ? null : String(v as string))),
    }));
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

/** The DuckDB column a name resolves to: exact spelling first, else (unless `exact`) case-insensitive. */
export function resolveColumn(table: DuckTable, name: string, exact = false): string | undefined {
  if (table.columns.has(name)) return name;
  return exact ? undefined : [...table.columns.keys()].find((c) => c.toLowerCase() === name.toLowerCase());
}
