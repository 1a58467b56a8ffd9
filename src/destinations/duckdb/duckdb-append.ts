import type { TruncateSegment } from '../../model/batch.js';
import type { SqlRunner } from './duckdb-connection.js';
import { columnValue, duckColumn, keyIndexes, type SegmentPlan } from './duckdb-plan.js';
import { opNameExpr, sentExpr, stagedValue } from './duckdb-sql.js';

const META_INSERT = '"__op", "__position", "__commit_ts", "__seq"';
const metaSelect = (row = ''): string => `${opNameExpr(`${row}o`)}, ${row}p, CAST(${row}t AS TIMESTAMPTZ), ${row}q`;

/**
 * One INSERT writing a segment as one row per event, in ordinal order.
 *
 * `unsent` lists the column indexes some event did not send. Such a value is filled from the
 * latest earlier event for the same key in this segment that sent it (a sent NULL counts), else
 * from the latest row already in the table for that key (by insertion order, `rowid`; this
 * includes earlier segments of the same batch), else NULL. Keyless tables cannot be matched, so
 * their unsent values are NULL.
 */
export function buildAppendSql(plan: SegmentPlan, unsent: ReadonlySet<number>): string {
  const { schema } = plan;
  const keys = keyIndexes(schema);
  const col = (i: number): string => duckColumn(plan, i);
  const all = schema.columns.map((_, i) => i);
  const into = `INSERT INTO ${plan.table.ref} (${[...all.map(col), META_INSERT].join(', ')})`;
  const fill = [...unsent].filter((i) => i < all.length && !keys.includes(i)).sort((a, b) => a - b);
  if (keys.length === 0 || fill.length === 0) {
    return `${into}\nSELECT ${[...all.map((i) => columnValue(plan, i)), metaSelect()].join(', ')} FROM ${plan.stage} ORDER BY n`;
  }
  const keyList = keys.map((i) => `k${i}`).join(', ');
  const earlier = fill.map(
    (i) =>
      `last_value(CASE WHEN ${sentExpr(i)} THEN {'v': ${stagedValue(i)}} END IGNORE NULLS) OVER ` +
      `(PARTITION BY ${keyList} ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS w${i}`,
  );
  const value = (i: number): string => {
    if (keys.includes(i)) return `f.k${i}`;
    if (!fill.includes(i)) return columnValue(plan, i, stagedValue(i, 'f.'));
    return (
      `CASE WHEN ${sentExpr(i, 'f.')} THEN ${columnValue(plan, i, stagedValue(i, 'f.'))} ` +
      `WHEN f.w${i} IS NOT NULL THEN ${columnValue(plan, i, `f.w${i}.v`)} ELSE prev.p${i} END`
    );
  };
  return `${into}
WITH keyed AS (SELECT *, ${keys.map((i) => `${columnValue(plan, i)} AS k${i}`).join(', ')} FROM ${plan.stage}),
filled AS (SELECT *, ${earlier.join(', ')} FROM keyed),
prev AS (
  SELECT ${[...keys.map((i) => `x.${col(i)} AS k${i}`), ...fill.map((i) => `x.${col(i)} AS p${i}`)].join(', ')}
  FROM ${plan.table.ref} AS x SEMI JOIN (SELECT DISTINCT ${keyList} FROM keyed) AS ks
    ON ${keys.map((i) => `x.${col(i)} = ks.k${i}`).join(' AND ')}
  QUALIFY row_number() OVER (PARTITION BY ${keys.map((i) => `x.${col(i)}`).join(', ')} ORDER BY x.rowid DESC) = 1
)
SELECT ${[...all.map(value), metaSelect('f.')].join(', ')}
FROM filled AS f LEFT JOIN prev ON ${keys.map((i) => `prev.k${i} = f.k${i}`).join(' AND ')}
ORDER BY f.n`;
}

/** A source TRUNCATE in append mode: one row with `__op = 'truncate'` and NULL columns. */
export async function truncateAppended(db: SqlRunner, ref: string, segment: TruncateSegment): Promise<void> {
  await db.run(
    `INSERT INTO ${ref} (${META_INSERT}) VALUES ('truncate', $1, CAST($2 AS TIMESTAMPTZ), $3)`,
    [segment.position, segment.commitTs, segment.seq],
  );
}
