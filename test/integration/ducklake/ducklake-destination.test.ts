import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runQuery } from '../../../src/cli/query.js';
import { parsePipelineSpec } from '../../../src/config/load-config.js';
import { openDuckLakeDestination } from '../../../src/destinations/ducklake/ducklake-destination.js';
import { DuckLakeSession } from '../../../src/destinations/ducklake/ducklake-session.js';
import { BadValueError, ConfigError, DestinationError, LakeCommitConflictError, StaleBatchError } from '../../../src/errors.js';
import { VerifyError } from '../../../src/verify/verify-errors.js';
import type { VerifyResult } from '../../../src/verify/verify-result.js';
import { LakeReader } from '../../../src/verify/ducklake-reader.js';
import { verifyPipeline } from '../../../src/verify/verify-pipeline.js';
import type { ChangeEvent } from '../../../src/model/change-event.js';
import { LAKE_SKIP } from '../../helpers/ducklake.js';
import { PG_HOST, PG_PORT, PG_USER, pgConnect } from '../../helpers/postgres.js';
import { column, Harness, PIPELINE, row, schema, truncate } from '../duckdb/duckdb-kit.js';

const ITEMS = 'shop.items';
const items = schema(ITEMS, [column('id', 'INTEGER'), column('name'), column('qty', 'INTEGER')]);
const EVENTS = 'app.events';
const events = schema(EVENTS, [column('id', 'INTEGER'), column('body'), column('n', 'INTEGER')]);

async function columnTypes(h: Harness, table: string): Promise<Record<string, string>> {
  const rows = await h.query(
    `SELECT column_name AS c, data_type AS t FROM duckdb_columns() WHERE database_name = 'lake' AND table_name = '${table}' ORDER BY column_index`,
  );
  return Object.fromEntries(rows.map((r) => [r.c as string, r.t as string]));
}

async function snapshots(h: Harness): Promise<number> {
  const [r] = await h.query("SELECT count(*)::INT AS n FROM ducklake_snapshots('lake')");
  return Number(r?.n);
}

describe('DuckLake destination', { skip: LAKE_SKIP }, () => {
  let h: Harness;
  before(async () => {
    h = await Harness.openLake();
  });
  after(async () => {
    await h?.close();
  });

  test('MERGE: one row per key, soft deletes, revivals and unsent (TOAST) values, in the lake', async () => {
    await h.apply([
      items,
      row(ITEMS, 'insert', ['1', 'apple', '5'], '0/1'),
      row(ITEMS, 'insert', ['2', 'pear', '7'], '0/1'),
      row(ITEMS, 'update', ['1', undefined, '6'], '0/2'),
    ]);
    await h.apply([items, row(ITEMS, 'delete', ['2', undefined, undefined], '0/3'), row(ITEMS, 'delete', ['9', undefined, undefined], '0/3')]);
    await h.apply([items, row(ITEMS, 'insert', ['9', 'fig', '1'], '0/4')]);
    assert.deepEqual(await h.query('SELECT id, name, qty, __deleted, __op, __position FROM shop.items ORDER BY id'), [
      { id: 1, name: 'apple', qty: 6, __deleted: false, __op: 'update', __position: '0/2' },
      { id: 2, name: 'pear', qty: 7, __deleted: true, __op: 'delete', __position: '0/3' },
      { id: 9, name: 'fig', qty: 1, __deleted: false, __op: 'insert', __position: '0/4' },
    ]);
    // The tables live in the lake (its catalog in PostgreSQL), not in a DuckDB file.
    assert.deepEqual(await h.query("SELECT count(*)::INT AS n FROM duckdb_tables() WHERE database_name = 'lake' AND table_name = 'items'"), [{ n: 1 }]);
  });

  test('APPEND: one row per event in order; unsent values from the latest earlier row; a replayed batch adds nothing', async () => {
    const batch: ChangeEvent[] = [
      row(EVENTS, 'insert', ['1', 'a', '1'], '0/1'),
      row(EVENTS, 'update', ['1', 'a2', '2'], '0/2'),
      row(EVENTS, 'delete', ['1', undefined, undefined], '0/3'),
    ];
    const append = await h.asPipeline('p-append');
    const { manifest, spoolDir } = await append.stage([events, ...batch]);
    assert.equal((await append.applyStaged(manifest, spoolDir, { mode: 'append' })).skipped, false);
    assert.equal((await append.applyStaged(manifest, spoolDir, { mode: 'append' })).skipped, true);
    await append.apply([events, row(EVENTS, 'update', ['1', undefined, '3'], '0/4')], { mode: 'append' });
    const select = 'SELECT id, body, n, __op, __position FROM app.events ORDER BY rowid';
    const expected = [
      { id: 1, body: 'a', n: 1, __op: 'insert', __position: '0/1' },
      { id: 1, body: 'a2', n: 2, __op: 'update', __position: '0/2' },
      { id: 1, body: 'a2', n: 2, __op: 'delete', __position: '0/3' },
      { id: 1, body: 'a2', n: 3, __op: 'update', __position: '0/4' },
    ];
    assert.deepEqual(await h.query(select), expected);
    await append.apply([events, truncate(EVENTS, '0/5')], { mode: 'append' });
    assert.deepEqual(await h.query("SELECT id, __op FROM app.events WHERE __op = 'truncate'"), [{ id: null, __op: 'truncate' }]);
    // An earlier batch delivered again (after the checkpoint moved on) is refused, not applied twice.
    await assert.rejects(append.applyStaged(manifest, spoolDir, { mode: 'append' }), StaleBatchError);
    assert.deepEqual(await h.query('SELECT count(*)::INT AS n FROM app.events'), [{ n: 5 }]);
  });

  test('schema evolution: new table, added (with backfill), dropped and renamed columns, widened and unrelated types', async () => {
    const t = 'evo.t';
    const v1 = schema(t, [column('id', 'INTEGER'), column('small', 'INTEGER'), column('gone'), { ...column('old'), id: 4 }, column('d', 'DATE')]);
    await h.apply([v1, row(t, 'insert', ['1', '10', 'g', 'o', '2024-02-29'])]);
    const v2 = schema(t, [
      column('id', 'INTEGER'),
      column('small', 'BIGINT'),
      { ...column('new'), id: 4 },
      column('d', 'INTEGER'),
      { ...column('flag', 'INTEGER'), backfill: '7' },
      { ...column('bin', 'BLOB', 'hex'), backfill: '00ff41' },
      { ...column('doc', 'JSON', 'json'), backfill: '{"a": [1, 2]}' },
      { ...column('tags', 'VARCHAR[]', 'json'), backfill: '["x", "y"]' },
    ]);
    await h.apply([v2, row(t, 'insert', ['2', '9223372036854775807', 'n', '42', '1', '41', '{}', '[]'])]);
    assert.deepEqual(await columnTypes(h, 't'), {
      id: 'INTEGER', small: 'BIGINT', gone: 'VARCHAR', new: 'VARCHAR',
      __deleted: 'BOOLEAN', __op: 'VARCHAR', __position: 'VARCHAR', __commit_ts: 'TIMESTAMP WITH TIME ZONE',
      flag: 'INTEGER', bin: 'BLOB', doc: 'JSON', tags: 'VARCHAR[]',
      // DuckLake cannot alter a DATE column to VARCHAR in place: the column was rewritten (and moved last).
      d: 'VARCHAR',
    });
    assert.deepEqual(
      await h.query('SELECT id, small::VARCHAR AS small, gone, new, d, flag, hex(bin) AS bin, doc::VARCHAR AS doc, tags FROM evo.t ORDER BY id'),
      [
        { id: 1, small: '10', gone: 'g', new: 'o', d: '2024-02-29', flag: 7, bin: '00FF41', doc: '{"a": [1, 2]}', tags: ['x', 'y'] },
        { id: 2, small: '9223372036854775807', gone: null, new: 'n', d: '42', flag: 1, bin: '41', doc: '{}', tags: [] },
      ],
    );
    await h.apply([v2, { table: t, renames: [{ from: 'new', to: 'newer' }] }]);
    assert.ok('newer' in (await columnTypes(h, 't')));
  });

  test('a failing batch leaves neither rows, tables nor checkpoint: not even a lake snapshot', async () => {
    const before = await h.dest.readCheckpoint(PIPELINE);
    const snapshotsBefore = await snapshots(h);
    const { manifest, spoolDir } = await h.stage([
      schema(ITEMS, [...items.columns, column('added')]),
      row(ITEMS, 'update', ['1', 'apple', '100', 'a']),
      schema('shop.fresh', [column('id', 'INTEGER')]),
      row('shop.fresh', 'insert', ['1']),
      row(ITEMS, 'insert', ['3', 'bad', 'not a number', 'x']),
    ]);
    await assert.rejects(h.applyStaged(manifest, spoolDir), BadValueError);
    assert.deepEqual(await h.dest.readCheckpoint(PIPELINE), before);
    assert.equal(await snapshots(h), snapshotsBefore);
    assert.deepEqual(await h.query('SELECT qty FROM shop.items WHERE id = 1'), [{ qty: 6 }]);
    assert.equal('added' in (await columnTypes(h, 'items')), false);
    assert.deepEqual(await h.query("SELECT count(*)::INT AS n FROM duckdb_tables() WHERE database_name = 'lake' AND table_name = 'fresh'"), [{ n: 0 }]);
  });

  test('a replayed batch changes nothing; the batch and its checkpoint are one lake snapshot', async () => {
    const snapshotsBefore = await snapshots(h);
    const { manifest, spoolDir } = await h.stage([items, row(ITEMS, 'update', ['1', 'apple', '8'], '0/9')]);
    const first = await h.applyStaged(manifest, spoolDir);
    assert.equal(first.skipped, false);
    assert.equal(await snapshots(h), snapshotsBefore + 1);
    const again = await h.applyStaged(manifest, spoolDir);
    assert.equal(again.skipped, true);
    assert.equal(await snapshots(h), snapshotsBefore + 1);
    assert.deepEqual(await h.dest.readCheckpoint(PIPELINE), manifest.to);
    assert.deepEqual(await h.query('SELECT qty, __position FROM shop.items WHERE id = 1'), [{ qty: 8, __position: '0/9' }]);
  });

  test('an update that changes the key retires the old key; its unsent values follow the row', async () => {
    const t = 'shop.moved';
    const moved = schema(t, [column('id', 'INTEGER'), column('big'), column('n', 'INTEGER')]);
    await h.apply([moved, row(t, 'insert', ['1', 'one', '1'])]);
    await h.apply([moved, { ...row(t, 'update', ['2', undefined, '2']), oldKey: ['1'] } as ChangeEvent]);
    assert.deepEqual(await h.query('SELECT id, big, n, __deleted FROM shop.moved ORDER BY id'), [
      { id: 1, big: 'one', n: 1, __deleted: true },
      { id: 2, big: 'one', n: 2, __deleted: false },
    ]);
  });

  test('an incremental copy (re-sync) ends with the rows the source no longer has deleted', async () => {
    const t = 'shop.copied';
    const copied = schema(t, [column('id', 'INTEGER'), column('name')]);
    await h.apply([copied, ...['1', '2', '3'].map((id) => row(t, 'insert', [id, `n${id}`], '0/1'))]);
    await h.apply([copied, { backfill: 'begin', table: t }, row(t, 'update', ['3', 'n3b'], '0/2'), row(t, 'snapshot', ['1', 'n1'], '0/3', null)]);
    await h.apply([copied, { backfill: 'end', table: t, position: '0/4' }]);
    assert.deepEqual(await h.query('SELECT id, name, __deleted, __op FROM shop.copied ORDER BY id'), [
      { id: 1, name: 'n1', __deleted: false, __op: 'snapshot' },
      { id: 2, name: 'n2', __deleted: true, __op: 'delete' },
      { id: 3, name: 'n3b', __deleted: false, __op: 'update' },
    ]);
    assert.deepEqual(await h.query("SELECT count(*)::INT AS n FROM duckdb_tables() WHERE database_name = 'lake' AND schema_name = '_ducktail' AND starts_with(table_name, 'unseen ')"), [{ n: 0 }]);
  });

  test('forgetPipeline (teardown) removes the checkpoint and batch log from the lake, not the data', async () => {
    const gone = await h.asPipeline('p-gone');
    await gone.apply([schema('gone.t', [column('id', 'INTEGER')]), row('gone.t', 'insert', ['1'])]);
    await h.dest.forgetPipeline('p-gone');
    assert.equal(await h.dest.readCheckpoint('p-gone'), null);
    assert.deepEqual(await h.query("SELECT count(*)::INT AS n FROM _ducktail.batches WHERE pipeline = 'p-gone'"), [{ n: 0 }]);
    assert.deepEqual(await h.query('SELECT count(*)::INT AS n FROM gone.t'), [{ n: 1 }]);
  });

  test('a commit that loses to another writer of the lake is a retryable LakeCommitConflictError', async () => {
    const a = await DuckLakeSession.open({ destination: h.lake.destination });
    const b = await DuckLakeSession.open({ destination: h.lake.destination });
    try {
      await a.exclusive((db) => db.run('BEGIN TRANSACTION'));
      await a.exclusive((db) => db.run('UPDATE shop.items SET qty = 1 WHERE id = 1'));
      await b.exclusive((db) => db.run('UPDATE shop.items SET qty = 2 WHERE id = 1'));
      const conflict = await a.exclusive((db) => db.run('COMMIT')).then(
        () => assert.fail('the second commit must fail'),
        (err: unknown) => err,
      );
      assert.ok(conflict instanceof LakeCommitConflictError, `got ${String(conflict)}`);
      assert.equal(conflict.nonRetryable, false);
      await a.exclusive((db) => db.run('ROLLBACK')).catch(() => undefined);
    } finally {
      await a.close();
      await b.close();
    }
    assert.deepEqual(await h.query('SELECT qty FROM shop.items WHERE id = 1'), [{ qty: 2 }]);
  });
});

describe('DuckLake pipelines: query, attach errors', { skip: LAKE_SKIP }, () => {
  let h: Harness;
  before(async () => {
    h = await Harness.openLake();
    await h.apply([items, row(ITEMS, 'insert', ['1', 'apple', '5']), row(ITEMS, 'insert', ['2', 'pear', '7'])]);
  });
  after(async () => {
    await h?.close();
  });

  const lakeConfig = () => {
    const spec = parsePipelineSpec({ name: 'lakep', source: { kind: 'postgres', tables: ['shop.items'] }, destination: h.lake.destination });
    return { file: '/x/ducktail.yaml', temporal: { namespace: 'default', taskQueue: 'q' }, pipelines: [spec] };
  };

  test('ducktail query reads the lake (read-only, the last committed snapshot) and refuses writes', async () => {
    const out = await runQuery(lakeConfig(), 'SELECT id, name FROM shop.items WHERE NOT __deleted ORDER BY id', { json: true, csv: false });
    assert.deepEqual(JSON.parse(out), [{ id: 1, name: 'apple' }, { id: 2, name: 'pear' }]);
    await assert.rejects(runQuery(lakeConfig(), "INSERT INTO shop.items (id) VALUES (3)", { json: true, csv: false }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /query only reads/);
      return true;
    });
  });

  test('a catalog database that does not exist fails with the fix, not a retry', async () => {
    const missing = { ...h.lake.destination, catalog: h.lake.destination.catalog.replace(h.lake.database, 'ducktail_no_such_lake') };
    await assert.rejects(openDuckLakeDestination(missing, undefined), (err: unknown) => {
      assert.ok(err instanceof DestinationError, String(err));
      assert.match(err.message, /create the catalog database first/);
      return true;
    });
  });
});

describe('ducktail verify compares a lake with its source (read-only, by key ranges and checksums)', { skip: LAKE_SKIP }, () => {
  const db = `ducktail_verify_lake_${randomBytes(4).toString('hex')}`;
  let h: Harness;

  const spec = (mode: 'merge' | 'append' = 'merge') =>
    parsePipelineSpec({
      name: PIPELINE,
      mode,
      source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: db, tables: [ITEMS] },
      destination: h.lake.destination,
    });
  const diffs = (r: VerifyResult): string[] => r.tables.flatMap((t) => t.differences.map((d) => `${d.kind} ${d.key.join('/')}`));
  const sourceSql = async (sql: string): Promise<void> => {
    const c = await pgConnect(db);
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };

  before(async () => {
    const admin = await pgConnect();
    try {
      await admin.query(`CREATE DATABASE "${db}"`);
    } finally {
      await admin.end();
    }
    await sourceSql(`CREATE SCHEMA shop; CREATE TABLE shop.items (id int PRIMARY KEY, name text, qty int);
      INSERT INTO shop.items SELECT g, 'item ' || g, g FROM generate_series(1, 30) g`);
    h = await Harness.openLake();
    await h.dest.registerPipeline(PIPELINE, 'merge');
    const rows = Array.from({ length: 31 }, (_, i) => row(ITEMS, 'insert', [String(i + 1), `item ${i + 1}`, String(i + 1)], '0/1'));
    await h.apply([items, ...rows]);
    // A row deleted at the source is a soft-deleted row of the copy: not live, so not extra.
    await h.apply([items, row(ITEMS, 'delete', ['31', undefined, undefined], '0/2')]);
  });
  after(async () => {
    await h?.close();
    const admin = await pgConnect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  });

  test('a lake equal to the source: equal, live rows counted', async () => {
    const r = await verifyPipeline(spec(), { recheck: 'none', chunkRows: 10 });
    assert.equal(r.equal, true, JSON.stringify(r));
    assert.match(r.destination, /^ducklake:postgres:dbname=/);
    assert.deepEqual(r.tables.map((t) => [t.table, t.destinationTable, t.sourceRows, t.destinationRows, t.equal, t.error]), [[ITEMS, ITEMS, 30, 30, true, null]]);
  });

  test('a row changed and a row deleted in the lake behind the pipeline: named by key', async () => {
    await h.exec('UPDATE shop.items SET qty = 99 WHERE id = 12');
    await h.exec('DELETE FROM shop.items WHERE id = 7');
    try {
      const r = await verifyPipeline(spec(), { recheck: 'now', chunkRows: 10 });
      assert.equal(r.equal, false);
      assert.deepEqual(diffs(r), ['missing 7', 'changed 12']);
      assert.equal(r.tables[0]!.destinationRows, 29);
      assert.equal(r.recheck?.rounds, 1);
    } finally {
      await h.apply([items, row(ITEMS, 'insert', ['7', 'item 7', '7'], '0/3'), row(ITEMS, 'update', ['12', 'item 12', '12'], '0/3')]);
    }
    assert.equal((await verifyPipeline(spec(), { recheck: 'none' })).equal, true);
  });

  test('an extra live row in the lake is named too', async () => {
    await h.exec('UPDATE shop.items SET __deleted = false WHERE id = 31');
    try {
      assert.deepEqual(diffs(await verifyPipeline(spec(), { recheck: 'none' })), ['extra 31']);
    } finally {
      await h.exec('UPDATE shop.items SET __deleted = true WHERE id = 31');
    }
  });

  test('the re-check reads the lake as the loads left it meanwhile (a new snapshot, not the first pass\'s)', async () => {
    await sourceSql("UPDATE shop.items SET name = 'renamed' WHERE id = 3");
    let loaded = false;
    const r = await verifyPipeline(spec(), {
      chunkRows: 10,
      catchUpTimeoutMs: 1_000,
      // The pipeline's load of the change, committed while verify waits for the copy to catch up.
      beforeCatchUp: async () => {
        if (loaded) return;
        loaded = true;
        await h.apply([items, row(ITEMS, 'update', ['3', 'renamed', '3'], '0/4')]);
      },
    });
    assert.equal(loaded, true);
    assert.equal(r.recheck?.firstPassDifferences, 1);
    assert.equal(r.equal, true, JSON.stringify(r));
  });

  test('the lake reader: one snapshot per withCopy (a commit meanwhile is not seen), the newest in the next', async () => {
    const reader = await LakeReader.open(h.lake.destination, {});
    try {
      const qty = "SELECT qty FROM shop.items WHERE id = 5";
      const seen = await reader.withCopy(async (copy) => {
        const first = await copy.rows(qty);
        await h.exec('UPDATE shop.items SET qty = 55 WHERE id = 5');
        return [first, await copy.rows(qty)];
      });
      assert.deepEqual(seen, [[[5]], [[5]]]);
      assert.deepEqual(await reader.rows(qty), [[55]]);
    } finally {
      await h.exec('UPDATE shop.items SET qty = 5 WHERE id = 5');
      await reader.close();
    }
  });

  test('APPEND pipelines are refused, as for DuckDB files; the catalog password from destination.passwordEnv; a lake the pipeline never loaded says so', async () => {
    await assert.rejects(verifyPipeline(spec('append')), (err: unknown) => err instanceof VerifyError && /APPEND mode/.test(err.message));
    // The catalog password comes from the variable destination.passwordEnv names (the local catalog trusts any).
    const withPassword = { ...spec(), destination: { ...h.lake.destination, passwordEnv: 'DUCKTAIL_TEST_LAKE_PW' } };
    assert.equal((await verifyPipeline(withPassword, { recheck: 'none', env: { DUCKTAIL_TEST_LAKE_PW: 'pw' } })).equal, true);
    await assert.rejects(verifyPipeline(withPassword, { env: {} }), (err: unknown) => err instanceof ConfigError && /destination\.passwordEnv names DUCKTAIL_TEST_LAKE_PW/.test(err.message));
    const other = { ...spec(), name: 'never_loaded' };
    await assert.rejects(verifyPipeline(other), (err: unknown) => err instanceof VerifyError && /has loaded nothing into ducklake:/.test(err.message));
  });
});
