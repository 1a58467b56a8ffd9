/**
 * A configured table: `schema.table` (`database.table` for MySQL), or `schema.*` for every table
 * of a schema. Each part is written bare, exactly as the source spells it (`public.Orders` is the
 * table `Orders`), or quoted when it holds a dot, a space, a quote or starts or ends with a blank:
 * `"my schema"."Odd.Name"`, `` `shop`.`order items` `` (a quote inside is doubled).
 */
export interface TableRef {
  schema: string;
  /** `*` for every table of the schema. */
  name: string;
}

const PART = /^(?:"((?:[^"]|"")+)"|`((?:[^`]|``)+)`|([^."`\s]+))/;

/** Parses a configured table name; null when it is not `schema.table` as described on `TableRef`. */
export function parseTableRef(text: string): TableRef | null {
  const first = PART.exec(text);
  if (first === null || text[first[0].length] !== '.') return null;
  const rest = text.slice(first[0].length + 1);
  const second = PART.exec(rest);
  if (second === null || second[0].length !== rest.length) return null;
  const schema = unquote(first);
  const name = unquote(second);
  // Table names are `schema.name` inside Ducktail, split at the first dot.
  if (schema.includes('.')) return null;
  return { schema, name };
}

/** `schema.table` as Ducktail names tables inside (schema names hold no dot). */
export function tableKey(ref: TableRef): string {
  return `${ref.schema}.${ref.name}`;
}

function unquote(m: RegExpExecArray): string {
  if (m[1] !== undefined) return m[1].replaceAll('""', '"');
  if (m[2] !== undefined) return m[2].replaceAll('``', '`');
  return m[3] ?? '';
}
