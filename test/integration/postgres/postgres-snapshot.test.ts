import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Checkpoint } from '../../../src/model/checkpoint.js';
import type { PgPosition } from '../../../src/model/position.js';
import type { RowEvent } from '../../../src/model/change-event.js';
import { comparePgPositions, parseLsn } from '../../../src/sources/postgres/postgres-position.js';
import { captureOnce, captureUntil, makeSpec, newSource, sourceSuite, uniqueName } from './pg-test-helpers.js';

describe('PostgreSQL snapshot then streaming', () => {
  const suite = sourceSuite();
  const sources = suite.sources;

  test('chunks, resume mid-table, changes during the snapshot, then I/U/D with positions', async () => {
    const name = uniqueName('dt_snap');
    await suite.db.query(`CREATE TABLE ${name} (id int PRIMARY KEY, v text)`);
    await suite.db.query(`INSERT INTO ${name} SELECT g, 'row ' || g FROM generate_series(1, 10) g`);
    const spec = makeSpec(name, [`public.${name}`], { snapshot: { enabled: true, chunkRows: 4 } });
    const source = newSource(spec);
    sources.push(source);

    const initial = await source.prepare();
    assert.equal(initial.position, null);
    assert.equal(initial.snapshot?.consistent, true);
    assert.deepEqual(initial.snapshot?.tables, [{ table: `public.${name}`, done: false, rows: 0 }]);
    const start = initial.snapshot?.startPosition as PgPosition;

    // Committed after the slot's consistent point: invisible to the snapshot, must be streamed.
    await suite.db.query(`INSERT INTO ${name} VALUES (11, 'during')`);
    await suite.db.query(`UPDATE ${name} SET v = 'changed' WHERE id = 2`);

    const c1 = await captureOnce(source, initial);
    assert.deepEqual(c1.sink.rows.map((e) => e.values[0]), ['1', '2', '3', '4']);
    assert.equal(c1.sink.rows[1]?.values[1], 'row 2', 'snapshot reads the exported snapshot, not the later update');
    assert.ok(c1.sink.rows.every((e) => e.op === 'snapshot' && e.position === start.lsn && e.commitTs === null));
    assert.deepEqual(c1.sink.rows.map((e) => e.seq), [0, 1, 2, 3]);
    assert.deepEqual(c1.to.snapshot?.tables[0], { table: `public.${name}`, done: false, rows: 4, lastKey: ['4'] });
    assert.equal(c1.to.snapshot?.consistent, true);
    assert.equal(c1.sink.schemas[0]?.primaryKey[0], 'id');

    const c2 = await captureOnce(source, c1.to);
    assert.deepEqual(c2.sink.rows.map((e) => e.values[0]), ['5', '6', '7', '8']);

    // A new instance (worker restart) no longer holds the exported snapshot: the copy starts over
    // from a new slot and exported snapshot, discarding what the interrupted copy loaded.
    const restarted = newSource(spec);
    sources.push(restarted);
    await source.close();
    const again = await captureOnce(restarted, c2.to);
    assert.equal(again.sink.rows.length, 0);
    assert.deepEqual(again.sink.discarded, [{ table: `public.${name}`, position: start.lsn }]);
    const restart = again.to.snapshot?.startPosition as PgPosition;
    assert.equal(comparePgPositions(restart, start), 1, 'a new consistent point, after the changes made meanwhile');
    assert.deepEqual(again.to.snapshot?.tables, [{ table: `public.${name}`, done: false, rows: 0 }]);
    await suite.db.query(`UPDATE ${name} SET v = 'after restart' WHERE id = 3`);
    const copied = await captureUntil(restarted, again.to, 11);
    assert.deepEqual(copied.events.map((e) => (e.op === 'truncate' ? [] : [e.op, e.values[0], e.values[1]])).slice(0, 3), [
      ['snapshot', '1', 'row 1'],
      ['snapshot', '2', 'changed'],
      ['snapshot', '3', 'row 3'],
    ]);
    const c3 = { to: copied.to };
    assert.equal(c3.to.snapshot, undefined, 'snapshot finished');
    assert.deepEqual(c3.to.position, restart);
    const s1 = await captureUntil(restarted, c3.to, 1);
    assert.deepEqual((s1.events as RowEvent[]).map((e) => [e.op, e.values[0], e.values[1]]), [['update', '3', 'after restart']]);
    await suite.db.query('BEGIN');
    await suite.db.query(`INSERT INTO ${name} VALUES (12, 'x')`);
    await suite.db.query(`UPDATE ${name} SET v = 'y' WHERE id = 12`);
    await suite.db.query(`DELETE FROM ${name} WHERE id = 1`);
    await suite.db.query('COMMIT');
    const s2 = await captureUntil(restarted, s1.to, 3);
    const txn = s2.events as RowEvent[];
    assert.deepEqual(txn.map((e) => [e.op, e.seq]), [['insert', 0], ['update', 1], ['delete', 2]]);
    assert.deepEqual(txn[2]?.values, ['1', undefined], 'a delete sends the key only');
    assert.equal(new Set(txn.map((e) => e.position)).size, 1);
    // The batch ends after the whole transaction (or at a later idle keepalive boundary).
    const to = s2.to.position as PgPosition;
    const commitLsn = txn[0]?.position ?? '';
    assert.ok(comparePgPositions(to, { kind: 'pg', lsn: commitLsn, ackLsn: commitLsn }) >= 0);
    assert.ok(parseLsn(to.ackLsn) > parseLsn(commitLsn));
    assert.equal(comparePgPositions(to, s1.to.position as PgPosition), 1);
  });

  test('a snapshot batch honours maxRows and maxBytes: every row copied once, in key order', async () => {
    const name = uniqueName('dt_snap_limits');
    await suite.db.query(`CREATE TABLE ${name} (id int PRIMARY KEY, v text)`);
    await suite.db.query(`INSERT INTO ${name} SELECT g, repeat('x', 300) FROM generate_series(1, 20) g`);
    const source = newSource(makeSpec(name, [`public.${name}`], { snapshot: { enabled: true, chunkRows: 1000 } }));
    sources.push(source);
    const copy = async (limits: { maxRows?: number; maxBytes?: number }): Promise<number[]> => {
      const sizes: number[] = [];
      const ids: (string | null | undefined)[] = [];
      let at = await source.prepare();
      while (at.snapshot !== undefined) {
        const c = await captureOnce(source, at, limits);
        sizes.push(c.sink.rows.length);
        ids.push(...c.sink.rows.map((e) => e.values[0]));
        at = c.to;
      }
      assert.deepEqual(ids, Array.from({ length: 20 }, (_, i) => String(i + 1)));
      return sizes;
    };
    assert.deepEqual(await copy({ maxRows: 7 }), [7, 7, 6]);
    await source.teardown(); // the next copy starts from a new slot and snapshot
    // Each row stages ~350 bytes: a batch stops at the first row that reaches 1 KiB.
    const bySize = await copy({ maxBytes: 1024 });
    assert.ok(bySize.length >= 5 && bySize.every((n) => n <= 3), `batch sizes ${bySize.join(', ')}`);
  });

  test('a table is copied as it was at the snapshot point; renamed columns or a rewrite start the copy over', async () => {
    const name = uniqueName('dt_snap_ddl');
    await suite.db.query(`CREATE TABLE ${name} (id int PRIMARY KEY, v text)`);
    await suite.db.query(`INSERT INTO ${name} SELECT g, 'r' || g FROM generate_series(1, 6) g`);
    const spec = makeSpec(name, [`public.${name}`], { snapshot: { enabled: true, chunkRows: 2 } });
    const source = newSource(spec);
    sources.push(source);
    const initial = await source.prepare();
    const c1 = await captureOnce(source, initial);
    // Added after the snapshot point: not in the copy (the stream brings it).
    await suite.db.query(`ALTER TABLE ${name} ADD COLUMN n int DEFAULT 1`);
    const c2 = await captureOnce(source, c1.to);
    assert.deepEqual(c2.sink.rows.map((e) => e.values), [['3', 'r3'], ['4', 'r4']]);
    assert.deepEqual(c2.sink.schemas.at(-1)?.columns.map((c) => c.name), ['id', 'v']);
    // Renamed after it: the snapshot cannot read the table as it was, so it starts over.
    await suite.db.query(`ALTER TABLE ${name} RENAME COLUMN v TO w`);
    const c3 = await captureOnce(source, c2.to);
    assert.equal(c3.sink.rows.length, 0);
    assert.equal(c3.sink.discarded.length, 1);
    assert.deepEqual(c3.to.snapshot?.tables[0]?.rows, 0);
    const c4 = await captureOnce(source, c3.to);
    assert.deepEqual(c4.sink.schemas.at(-1)?.columns.map((c) => c.name), ['id', 'w', 'n']);
    assert.deepEqual(c4.sink.rows.map((e) => e.values), [['1', 'r1', '1'], ['2', 'r2', '1']]);
    // Truncated after it: an older snapshot would see the table empty; it starts over too.
    await suite.db.query(`TRUNCATE ${name}`);
    const c5 = await captureOnce(source, c4.to);
    assert.equal(c5.sink.discarded.length, 1);
    const rest = await captureOnce(source, c5.to);
    assert.equal(rest.sink.rows.length, 0);
    assert.equal(rest.to.snapshot, undefined, 'an empty table is copied at once');
  });

  test('keyless table in append mode is copied by page ranges, bounded per chunk', async () => {
    const name = uniqueName('dt_keyless');
    await suite.db.query(`CREATE TABLE ${name} (v int) WITH (fillfactor = 10)`);
    await suite.db.query(`ALTER TABLE ${name} REPLICA IDENTITY FULL`);
    await suite.db.query(`INSERT INTO ${name} SELECT g FROM generate_series(1, 500) g`);
    await suite.db.query(`ANALYZE ${name}`);
    const spec = makeSpec(name, [`public.${name}`], { mode: 'append', snapshot: { enabled: true, chunkRows: 100 } });
    const source = newSource(spec);
    sources.push(source);
    let at: Checkpoint = await source.prepare();
    const seen: string[] = [];
    for (let i = 0; i < 50 && at.snapshot !== undefined; i++) {
      const r = await captureOnce(source, at);
      assert.ok(r.sink.events <= 150, `chunk of ${r.sink.events} rows`);
      seen.push(...r.sink.rows.map((e) => e.values[0] as string));
      at = r.to;
    }
    assert.equal(at.snapshot, undefined);
    assert.deepEqual(seen.map(Number).sort((a, b) => a - b), Array.from({ length: 500 }, (_, i) => i + 1));
  });
});
