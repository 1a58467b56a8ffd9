import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import type { Checkpoint } from '../../../src/model/checkpoint.js';
import type { MysqlPosition } from '../../../src/model/position.js';
import { compareMysqlPositions } from '../../../src/sources/mysql/mysql-position.js';
import { admin, captureOnce, DB, drain, LIMITS, makeSpec, newSource, uniqueName } from './mysql-kit.js';

describe('mysql streaming', () => {
  let db: Connection;
  before(async () => {
    db = await admin();
  });
  after(async () => {
    await db.end();
  });

  test('insert, update, delete arrive in order with positions, commit times and seq', async () => {
    const t = uniqueName('iud');
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, name VARCHAR(20))`);
    const source = newSource(makeSpec([`${DB}.${t}`]));
    try {
      const from = await source.prepare();
      assert.equal(from.position?.kind, 'mysql');
      await db.query(`INSERT INTO ${t} VALUES (1, 'a'), (2, 'b')`);
      await db.query(`BEGIN; UPDATE ${t} SET name = 'bb' WHERE id = 2; DELETE FROM ${t} WHERE id = 1; COMMIT`);
      const { to, sink } = await drain(source, from);
      const rows = sink.rows(`${DB}.${t}`);
      assert.deepEqual(rows, [
        { op: 'insert', id: '1', name: 'a' },
        { op: 'insert', id: '2', name: 'b' },
        { op: 'update', id: '2', name: 'bb' },
        { op: 'delete', id: '1', name: 'a' },
      ]);
      const ev = sink.records.map((r) => r.event);
      assert.deepEqual(ev.map((e) => e.seq), [0, 1, 0, 1]);
      assert.equal(ev[0]!.position, ev[1]!.position);
      assert.notEqual(ev[1]!.position, ev[2]!.position);
      assert.match(ev[0]!.position, /^mysql-bin\.\d+:\d+$/);
      assert.match(ev[0]!.commitTs ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$/);
      assert.ok(compareMysqlPositions(to.position as MysqlPosition, from.position) > 0);
      assert.equal((to.position as MysqlPosition).seq, undefined);
      assert.match((to.position as MysqlPosition).gtid ?? '', /^\d+-\d+-\d+$/);
      assert.deepEqual(sink.declared.at(-1)?.primaryKey, ['id']);
    } finally {
      await source.close();
    }
  });

  test('capturing twice from the same checkpoint repositions and yields the same events', async () => {
    const t = uniqueName('again');
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT)`);
    const source = newSource(makeSpec([`${DB}.${t}`]));
    try {
      const from = await source.prepare();
      await db.query(`INSERT INTO ${t} VALUES (1, 1), (2, 2), (3, 3)`);
      const first = await captureOnce(source, from);
      const second = await captureOnce(source, from); // the first batch was never loaded
      assert.equal(first.sink.events, 3);
      assert.deepEqual(second.sink.records.map((r) => r.event), first.sink.records.map((r) => r.event));
      assert.deepEqual(second.outcome.to, first.outcome.to);
      // and continuing from the loaded checkpoint delivers nothing again
      const third = await captureOnce(source, first.outcome.to);
      assert.equal(third.sink.events, 0);
      assert.deepEqual(third.outcome.to, first.outcome.to);
    } finally {
      await source.close();
    }
  });

  test('a new source started from a checkpoint redelivers nothing before it', async () => {
    const t = uniqueName('restart');
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY)`);
    const spec = makeSpec([`${DB}.${t}`]);
    const one = newSource(spec);
    let checkpoint: Checkpoint;
    try {
      const from = await one.prepare();
      await db.query(`INSERT INTO ${t} VALUES (1), (2)`);
      checkpoint = (await drain(one, from)).to;
    } finally {
      await one.close();
    }
    await db.query(`INSERT INTO ${t} VALUES (3)`);
    const two = newSource(spec);
    try {
      const { sink } = await drain(two, checkpoint);
      assert.deepEqual(sink.rows(`${DB}.${t}`), [{ op: 'insert', id: '3' }]);
    } finally {
      await two.close();
    }
  });

  test('a transaction larger than maxRows is split with seq, and resumes without repeats', async () => {
    const t = uniqueName('bigtx');
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, pad VARCHAR(10))`);
    const spec = makeSpec([`${DB}.${t}`]);
    const source = newSource(spec);
    const limits = { ...LIMITS, maxRows: 4 };
    try {
      const from = await source.prepare();
      await db.query(`INSERT INTO ${t} VALUES (100, 'before')`);
      const values = Array.from({ length: 10 }, (_, i) => `(${i + 1}, 'x')`).join(',');
      await db.query(`BEGIN; INSERT INTO ${t} VALUES ${values}; UPDATE ${t} SET pad = 'y' WHERE id = 1; COMMIT`);
      await db.query(`INSERT INTO ${t} VALUES (200, 'after')`);

      // batch 1: the small transaction, then the big one up to its own limit
      const b1 = await captureOnce(source, from, limits);
      const p1 = b1.outcome.to.position as MysqlPosition;
      assert.deepEqual(b1.sink.rows(`${DB}.${t}`).map((r) => r.id), ['100', '1', '2', '3', '4']);
      assert.equal(p1.seq, 4);
      const bigTxPosition = b1.sink.records[1]!.event.position;
      assert.equal(`${p1.file}:${p1.pos}`, bigTxPosition);

      // batch 2 resumes inside the transaction; a second capture of it from a NEW source skips the same events
      const b2 = await captureOnce(source, b1.outcome.to, limits);
      assert.deepEqual(b2.sink.records.map((r) => r.event.seq), [4, 5, 6, 7]);
      const fresh = newSource(spec);
      try {
        const again = await captureOnce(fresh, b1.outcome.to, limits);
        assert.deepEqual(again.sink.records.map((r) => r.event), b2.sink.records.map((r) => r.event));
      } finally {
        await fresh.close();
      }

      const rest = await drain(source, b2.outcome.to, limits);
      assert.deepEqual(rest.sink.rows(`${DB}.${t}`).map((r) => `${r.op}:${r.id}`), [
        'insert:9', 'insert:10', 'update:1', 'insert:200',
      ]);
      assert.equal((rest.to.position as MysqlPosition).seq, undefined);
    } finally {
      await source.close();
    }
  });

  test('TRUNCATE becomes a truncate event; a primary key change is one update naming the old key', async () => {
    const t = uniqueName('trunc');
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT)`);
    const source = newSource(makeSpec([`${DB}.${t}`]));
    try {
      const from = await source.prepare();
      await db.query(`INSERT INTO ${t} VALUES (1, 1)`);
      await db.query(`UPDATE ${t} SET id = 5 WHERE id = 1`);
      await db.query(`TRUNCATE TABLE ${t}`);
      await db.query(`INSERT INTO ${t} VALUES (2, 2)`);
      const { sink } = await drain(source, from);
      assert.deepEqual(sink.rows(`${DB}.${t}`), [
        { op: 'insert', id: '1', v: '1' },
        { op: 'update', id: '5', v: '1' },
        { op: 'truncate' },
        { op: 'insert', id: '2', v: '2' },
      ]);
      const moved = sink.records.find((r) => r.event.op === 'update')?.event;
      assert.deepEqual(moved !== undefined && moved.op === 'update' ? moved.oldKey : null, ['1']);
    } finally {
      await source.close();
    }
  });

  test('changes to other tables move the checkpoint without events; idle returns from unchanged', async () => {
    const mine = uniqueName('mine');
    const other = uniqueName('other');
    await db.query(`CREATE TABLE ${mine} (id INT PRIMARY KEY); CREATE TABLE ${other} (id INT PRIMARY KEY)`);
    const source = newSource(makeSpec([`${DB}.${mine}`]));
    try {
      const from = await source.prepare();
      const idle = await captureOnce(source, from);
      assert.equal(idle.sink.events, 0);
      assert.deepEqual(idle.outcome.to, from);
      await db.query(`INSERT INTO ${other} VALUES (1)`);
      const moved = await captureOnce(source, from);
      assert.equal(moved.sink.events, 0);
      assert.ok(compareMysqlPositions(moved.outcome.to.position as MysqlPosition, from.position as MysqlPosition) > 0);
      assert.ok(source.reached(moved.outcome.to, await source.currentPosition()));
      assert.equal(source.lagBytes(moved.outcome.to, await source.currentPosition()), 0);
    } finally {
      await source.close();
    }
  });
});
