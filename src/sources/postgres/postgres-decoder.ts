import type pg from 'pg';
import type { Pgoutput } from 'pg-logical-replication';
import { AbstractPlugin } from 'pg-logical-replication/dist/output-plugins/abstract.plugin.js';
import { PgoutputParser } from 'pg-logical-replication/dist/output-plugins/pgoutput/pgoutput-parser.js';
import type { PgTable } from './postgres-catalog.js';
import { quoteIdent, quoteLiteral } from './postgres-connection.js';

/** The parser members we rely on; `readRelationColumn` is private in the library's typings. */
interface ParserInternals {
  parse(buffer: Buffer): Pgoutput.Message;
  readRelationColumn(reader: unknown): Pgoutput.RelationColumn;
}

const keepText = (text: unknown): unknown => text;

/**
 * The library's pgoutput parser, except that column values stay PostgreSQL's text: the stock one
 * runs the process-global `pg.types` parsers (timestamps become `Date`, losing microseconds).
 * Unchanged TOAST values stay `undefined` and NULLs `null`, as the stock parser leaves them.
 */
class TextPgoutputParser extends (PgoutputParser as unknown as new () => ParserInternals) {
  override readRelationColumn(reader: unknown): Pgoutput.RelationColumn {
    return { ...super.readRelationColumn(reader), parser: keepText };
  }
}

/** pgoutput (protocol 1) for `LogicalReplicationService`, decoding values as text. */
export class TextPgoutputPlugin extends AbstractPlugin<Pgoutput.Options> {
  private readonly parser = new TextPgoutputParser();
  /** Messages parsed so far; parse() runs in arrival order, which lets keepalives be ordered with data. */
  parsed = 0;

  get name(): string {
    return 'pgoutput';
  }

  parse(buffer: Buffer): Pgoutput.Message {
    this.parsed++;
    return this.parser.parse(buffer);
  }

  start(client: pg.Client, slotName: string, lastLsn: string): Promise<unknown> {
    const publications = this.options.publicationNames.map(quoteIdent).join(',');
    // Logical decoding messages (PostgreSQL 14+) carry the DDL trigger's table shapes.
    const messages = this.options.messages === true ? ", messages 'true'" : '';
    const sql =
      `START_REPLICATION SLOT ${quoteIdent(slotName)} LOGICAL ${lastLsn} ` +
      `(proto_version '${this.options.protoVersion}', publication_names ${quoteLiteral(publications)}${messages})`;
    return client.query(sql);
  }
}

/**
 * A decoded tuple as values in `table`'s column order: converted text, `null` for NULL, and
 * `undefined` for a value not sent (unchanged TOAST, or a non-key column of a key-only tuple).
 */
export function tupleValues(table: PgTable, tuple: Record<string, unknown> | null): (string | null | undefined)[] {
  return table.columns.map((c) => {
    const v = tuple?.[c.schema.name];
    if (v === undefined || v === null) return v;
    if (typeof v !== 'string') throw new Error(`${table.schema.table}.${c.schema.name}: expected a text value from pgoutput`);
    return c.convert(v);
  });
}

/** Approximate in-memory size of a decoded message, for the byte-bounded queue. */
export function messageBytes(msg: Pgoutput.Message): number {
  let bytes = 64;
  const add = (tuple: Record<string, unknown> | null | undefined): void => {
    if (tuple === null || tuple === undefined) return;
    for (const k in tuple) {
      const v = tuple[k];
      bytes += 16 + (typeof v === 'string' ? v.length : 0);
    }
  };
  if (msg.tag === 'insert') add(msg.new);
  else if (msg.tag === 'update') {
    add(msg.new);
    add(msg.old);
  } else if (msg.tag === 'delete') add(msg.old ?? msg.key);
  return bytes;
}

/** pgoutput's commit time (µs since the Unix epoch, as the library decodes it) as ISO-8601 UTC with microseconds. */
export function commitTimeIso(unixMicros: bigint): string {
  const ms = unixMicros / 1000n;
  const micros = unixMicros % 1000n;
  const iso = new Date(Number(ms)).toISOString(); // 2024-01-02T03:04:05.123Z
  return `${iso.slice(0, -1)}${micros.toString().padStart(3, '0')}Z`;
}
