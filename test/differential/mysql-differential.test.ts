import { differentialSuite, type Regression } from './suite.js';

/**
 * MariaDB → DuckDB differential runs (see test/differential/runner.ts). Every `npm test` runs the
 * short seeds with everything on; a failure prints the seed and the command that replays it.
 * Replay one seed here: `DIFF_SEEDS=201 npm test -- test/differential/mysql-differential.test.ts`.
 */

/**
 * Seeds that failed (each a test case; run them with DIFF_REGRESSIONS=1). Notes name what they
 * showed when found; a fixed product makes them pass.
 */
const REGRESSIONS: Regression[] = [
  { seed: 21, steps: 114, switches: { only: ['ddl-after-update'] }, note: 'UPDATE, ALTER TABLE … ADD COLUMN, more DML in one batch: MERGE loads fail forever (another transaction has altered this table) while status says streaming' },
  { seed: 71, steps: 175, switches: { only: ['insert', 'update-key'] }, note: 'APPEND writes a key-changing UPDATE as delete + insert (the audit log has one update)' },
  { seed: 41, steps: 179, switches: { only: ['insert', 'case-names'] }, note: 'tables `Mixed` and `mixed` land in one DuckDB table' },
  { seed: 51, steps: 137, switches: { only: ['insert', 'meta-columns'] }, note: 'a source column named __deleted stalls the pipeline (clashes with a bookkeeping column)' },
  { seed: 31, steps: 162, switches: { only: ['insert', 'add-column-default'] }, note: 'ADD COLUMN … DEFAULT: untouched rows read NULL in MERGE, the default at the source' },
  { seed: 81, steps: 115, switches: { only: ['insert', 'rename-column'] }, note: 'RENAME COLUMN: rows not touched since read NULL under the new name in MERGE' },
  {
    seed: 202,
    steps: 190,
    seconds: 45,
    workerKills: 1,
    connKills: 1,
    switches: {},
    note: 'a snapshot restarted after a schema change holds the lock of a table with an odd default (4-byte UTF-8, read by querying the table) before copying it: the next ALTER of it waits 120 s and fails',
  },
];

differentialSuite(
  'mysql',
  [
    { seed: 201, workerKills: 2, connKills: 1 },
    { seed: 202, workerKills: 1, connKills: 1 },
  ],
  REGRESSIONS,
);
