import type { TruncateSegment } from '../../model/batch.js';
import type { SqlRunner } from './duckdb-connection.js';
import { columnValue, duckColumn, keyIndexes, type SegmentPlan } from './duckdb-plan.js';
import { opNameExpr, quoteIdent, sentExpr, stagedValue } from './duckdb-sql.js';

/**
 * One MERGE statement that folds a segment's events into one row per key.
 *
 * Per key, in ordinal order `n`: `__op`, `__position`, `__commit_ts` come from the last event;
 * each non-key column takes the value of the latest event that *sent* it (`arg_max_null` under a
 * FILTER, so a NULL that was sent wins); when no event sent it (unchanged TOAST, or only deletes)
 * an existing row keeps its value and a new row gets NULL. A delete of a key that is not in the
 * table inserts a tombstone (`__deleted = true`, the key, NULL columns), so every key the source
 * deleted is visible as deleted. Columns the source dropped are kept and written NULL from then
 * on, so an updated row never shows a value the source no longer has.
 *
 * With `keyMoves`, an update that changed the key (`k` holds the old key) also deletes the old key
 * just before it (ordinal `2n - 1`; every event is `2n`), so the old key ends deleted unless a
 * later event of the batch brings it back.
 */
export function buildMergeSql(plan: SegmentPlan, keyMoves = false): string {
  const { schema } = plan;
  const keys = keyIndexes(schema);
  if (keys.length === 0) throw new Error(`${schema.table}: merge needs a primary key`);
  const others = schema.columns.map((_, i) => i).filter((i) => !keys.includes(i));
  const col = (i: number): string => duckColumn(plan, i);

  const sent = others.map((i) => `o <> 'd' AND ${sentExpr(i)} AS s${i}`);
  const resolved = [
    ...keys.map((i) => `${columnValue(plan, i)} AS k${i}`),
    "arg_max_null(o, n) AS o_, arg_max_null(p, n) AS p_, arg_max_null(t, n) AS t_",
    ...others.map((i) => `bool_or(s${i}) AS h${i}, arg_max_null(${stagedValue(i)}, n) FILTER (WHERE s${i}) AS v${i}`),
  ];
  const decoded = [
    ...keys.map((i) => `k${i}`),
    'o_, p_, t_',
    ...others.map((i) => `h${i}, ${columnValue(plan, i, `v${i}`)} AS v${i}`),
  ];
  const meta: [string, string][] = [
    ['__deleted', "r.o_ = 'd'"],
    ['__op', opNameExpr('r.o_')],
    ['__position', 'r.p_'],
    ['__commit_ts', 'CAST(r.t_ AS TIMESTAMPTZ)'],
  ];
  const updates = [
    ...others.map((i) => `${col(i)} = CASE WHEN r.h${i} THEN r.v${i} ELSE t.${col(i)} END`),
    ...meta.map(([name, expr]) => `${quoteIdent(name)} = ${expr}`),
    ...plan.table.dropped.map((name) => `${quoteIdent(name)} = NULL`),
  ];
  const insertColumns = [...keys.map(col), ...others.map(col), ...meta.map(([name]) => quoteIdent(name))];
  const insertValues = [...keys.map((i) => `r.k${i}`), ...others.map((i) => `r.v${i}`), ...meta.map(([, e]) => e)];
  const events = keyMoves ? withKeyMoves(plan, keys) : plan.stage;
  const source = sent.length === 0 ? events : `(SELECT *, ${sent.join(', ')} FROM ${events})`;
  return `MERGE INTO ${plan.table.ref} AS t
USING (
  SELECT ${decoded.join(', ')}
  FROM (SELECT ${resolved.join(',\n    ')} FROM ${source} GROUP BY ALL)
) AS r
ON ${keys.map((i) => `t.${col(i)} = r.k${i}`).join(' AND ')}
WHEN MATCHED THEN UPDATE SET ${updates.join(', ')}
WHEN NOT MATCHED THEN INSERT (${insertColumns.join(', ')}) VALUES (${insertValues.join(', ')})`;
}

/** The staged events, plus a delete of the old key before each update that changed the key. */
function withKeyMoves(plan: SegmentPlan, keys: number[]): string {
  const oldKeyRow = plan.schema.columns.map((_, i) => (keys.includes(i) ? `k[${keys.indexOf(i) + 1}]` : 'NULL'));
  return `(SELECT n * 2 AS n, o, p, t, u, c FROM ${plan.stage}
  UNION ALL
  SELECT n * 2 - 1, 'd', p, t, NULL, CAST([${oldKeyRow.join(', ')}] AS VARCHAR[]) FROM ${plan.stage} WHERE k IS NOT NULL)`;
}

/** A source TRUNCATE in merge mode: every live row becomes deleted, at the truncate's position. */
export async function truncateMerged(db: SqlRunner, ref: string, segment: TruncateSegment): Promise<void> {
  await db.run(
    `UPDATE ${ref} SET "__deleted" = true, "__op" = 'truncate', "__position" = $1,
       "__commit_ts" = CAST($2 AS TIMESTAMPTZ) WHERE "__deleted" IS NOT TRUE`,
    [segment.position, segment.commitTs],
  );
}
