import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LAKE_CONFLICT_ATTEMPTS, retryLakeConflicts } from '../../../src/activities/lake-conflicts.js';
import { LakeCommitConflictError } from '../../../src/errors.js';
import { LAKE_SKIP } from '../../helpers/ducklake.js';
import { column, Harness, row, schema } from '../duckdb/duckdb-kit.js';

const BATCHES = 12;

/** Two writers of one lake (as two worker processes), each loading its own pipeline's tables. */
describe('DuckLake: two writers, two pipelines, one lake', { skip: LAKE_SKIP }, () => {
  let h: Harness;
  before(async () => {
    h = await Harness.openLake();
  });
  after(async () => {
    await h?.close();
  });

  test('concurrent loads lose commits to each other on the shared _ducktail tables; applying again at once loads every batch once', { timeout: 120_000 }, async () => {
    const a = await h.asPipelineOnAnotherWriter('pa');
    const b = await h.asPipelineOnAnotherWriter('pb');
    let conflicts = 0;
    const load = async (p: Harness, table: string): Promise<void> => {
      const t = schema(table, [column('id', 'INTEGER'), column('v')]);
      for (let n = 1; n <= BATCHES; n++) {
        const rows = Array.from({ length: 50 }, (_, i) => row(table, 'insert', [String(n * 1000 + i), `v${n}`], `0/${n}`));
        const { manifest, spoolDir } = await p.stage([t, ...rows]);
        const result = await retryLakeConflicts(() => p.applyStaged(manifest, spoolDir, { mode: 'append' }), () => conflicts++);
        assert.equal(result.skipped, false);
      }
    };
    try {
      await Promise.all([load(a, 'sa.events'), load(b, 'sb.events')]);
    } finally {
      await a.dest.close();
      await b.dest.close();
    }
    for (const table of ['sa.events', 'sb.events']) {
      assert.deepEqual(await h.query(`SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids FROM ${table}`), [{ n: BATCHES * 50, ids: BATCHES * 50 }], `${table}: every row once`);
    }
    assert.deepEqual(await h.query("SELECT pipeline, count(*)::INT AS n FROM _ducktail.batches WHERE pipeline IN ('pa', 'pb') GROUP BY ALL ORDER BY 1"), [
      { pipeline: 'pa', n: BATCHES },
      { pipeline: 'pb', n: BATCHES },
    ]);
    console.log(`lost commits: ${conflicts} of ${2 * BATCHES} loads`);
    // The retries were needed: without them a load would have failed (the test shows the path is taken).
    assert.ok(conflicts > 0, 'two writers of one lake conflicted at least once');
  });

  test('a conflict that keeps coming is thrown after the attempts, and other errors at once', async () => {
    let calls = 0;
    const conflict = new LakeCommitConflictError('DuckLake commit conflict: x', 'retry');
    await assert.rejects(retryLakeConflicts(() => (calls++, Promise.reject(conflict))), (e) => e === conflict);
    assert.equal(calls, LAKE_CONFLICT_ATTEMPTS);
    calls = 0;
    await assert.rejects(retryLakeConflicts(() => (calls++, Promise.reject(new Error('boom')))), /boom/);
    assert.equal(calls, 1);
  });
});
