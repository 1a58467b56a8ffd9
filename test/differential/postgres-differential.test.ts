import { differentialSuite, type Regression } from './suite.js';

/**
 * PostgreSQL → DuckDB differential runs (see test/differential/runner.ts). Every `npm test` runs
 * the short seeds with everything on; a failure prints the seed and the command that replays it.
 * Replay one seed here: `DIFF_SEEDS=101 npm test -- test/differential/postgres-differential.test.ts`.
 */

/**
 * Seeds that failed (each a test case; run them with DIFF_REGRESSIONS=1). Notes name what they
 * showed when found; a fixed product makes them pass.
 */
const REGRESSIONS: Regression[] = [
  { seed: 21, steps: 150, switches: { only: ['ddl-after-update'] }, note: 'UPDATE, ALTER TABLE … ADD COLUMN, more DML in one batch: MERGE loads fail forever (another transaction has altered this table) while status says streaming' },
  { seed: 11, steps: 210, switches: { only: ['insert', 'update-key'] }, note: 'MERGE keeps the old key of a key-changing UPDATE live; the moved row loses its TOASTed values (MERGE and APPEND)' },
  { seed: 91, steps: 142, switches: { only: ['insert', 'toast'] }, note: 'key-changing UPDATE of a row with a TOASTed value: the value becomes NULL in MERGE and APPEND' },
  { seed: 31, steps: 146, switches: { only: ['insert', 'add-column-default'] }, note: 'ADD COLUMN … DEFAULT: untouched rows read NULL in MERGE, the default at the source' },
  { seed: 41, steps: 183, switches: { only: ['insert', 'case-names'] }, note: 'columns "A" and "a" are one DuckDB column: the first snapshot load fails forever (Column with name a already exists)' },
  { seed: 51, steps: 137, switches: { only: ['insert', 'meta-columns'] }, note: 'a source column named __deleted stalls the pipeline (clashes with a bookkeeping column)' },
  { seed: 33, steps: 229, switches: { only: ['insert', 'update', 'delete', 'kill-snapshot'] }, note: 'a crash during the snapshot: later chunks are read outside it, APPEND delete images come out NULL or with later values' },
  {
    seed: 64,
    steps: 327,
    seconds: 60,
    connKillEverySec: [2, 4],
    switches: { only: ['insert', 'update', 'multi', 'big', 'kill-conn'], weights: { big: 6 } },
    note: 'walsender killed under load: MERGE parks in failed with a false PositionLostError (slot ahead of a split position\'s ackLsn)',
  },
  { seed: 81, steps: 125, switches: { only: ['insert', 'rename-column'] }, note: 'RENAME COLUMN: rows not touched since read NULL under the new name in MERGE' },
];

differentialSuite(
  'pg',
  [
    { seed: 101, workerKills: 2, connKills: 1 },
    { seed: 102, workerKills: 1, connKills: 1 },
    // Both pipelines in lakes, served by two worker processes on one task queue (found the stale lake statistics).
    { seed: 103, workerKills: 2, connKills: 1, workers: 2 },
  ],
  REGRESSIONS,
);
