import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import type { Checkpoint } from '../../../src/model/checkpoint.js';
import type { BatchLimits } from '../../../src/model/pipeline-spec.js';
import type { MysqlPosition } from '../../../src/model/position.js';
import { compareMysqlPositions } from '../../../src/sources/mysql/mysql-position.js';
import { admin, captureOnce, ctx, DB, drain, LIMITS, makeSpec, newSource, RecordingSink, uniqueName } from './mysql-kit.js';

describe('mysql snapshot', () => {
  let db: Connection;
  before(async () => {
    db = await admin();
  });
  after(async () => {
    await db.end();
  });

  test('copies tables in keyset chunks, resumes mid-table, then streams from the snapshot position', async () => {
    const a = uniqueName('snap_a');
    const b = uniqueName('snap_b');
    await db.query(`CREATE TABLE ${a} (k1 INT, k2 VARCHAR(5), v INT, PRIMARY KEY (k1, k2))`);
    await db.query(`CREATE TABLE ${b} (id BIGINT UNSIGNED PRIMARY KEY, v VARCHAR(5))`);
    await db.query(`INSERT INTO ${a} VALUES (1,'a',1),(1,'b',2),(2,'a',3),(2,'b',4),(3,'a',5)`);
    await db.query(`INSERT INTO ${b} VALUES (18446744073709551615, 'max'), (1, 'one')`);
    const spec = makeSpec([`${DB}.${a}`, `${DB}.${b}`], { snapshot: { enabled: true, chunkRows: 2 } });
    const source = newSource(spec);
    try {
      const plan = await source.prepare();
      assert.equal(plan.position, null);
      assert.equal(plan.snapshot?.consistent, true);
      assert.deepEqual(plan.snapshot?.tables.map((t) => [t.table, t.done, t.rows]).sort(), [
        [`${DB}.${a}`, false, 0],
        [`${DB}.${b}`, false, 0],
      ]);
      // changes after the snapshot began: invisible to the copy, streamed afterwards
      await db.query(`UPDATE ${a} SET v = 30 WHERE k1 = 2 AND k2 = 'a'`);
      await db.query(`INSERT INTO ${b} VALUES (2, 'two')`);

      const c1 = await captureOnce(source, plan);
      const t1 = c1.outcome.to.snapshot!.tables.find((t) => t.table === `${DB}.${a}`)!;
      assert.deepEqual(t1, { table: `${DB}.${a}`, done: false, rows: 2, lastKey: ['1', 'b'] });
      assert.deepEqual(c1.sink.rows(`${DB}.${a}`).map((r) => r.v), ['1', '2']);
      assert.ok(c1.sink.records.every((r) => r.event.op === 'snapshot' && r.event.commitTs === null));

      // the remaining chunks, each its own batch, until the checkpoint hands over to the start position
      const sink = new RecordingSink();
      let at = c1.outcome.to;
      while (at.snapshot !== undefined) at = (await source.capture(at, sink, LIMITS, ctx())).to;
      assert.deepEqual(at, { position: plan.snapshot.startPosition, batchId: '' });
      assert.ok(sink.records.every((r) => r.event.op === 'snapshot'));
      assert.deepEqual(sink.rows(`${DB}.${a}`).map((r) => `${r.k1}${r.k2}=${r.v}`), ['2a=3', '2b=4', '3a=5']);
      assert.deepEqual(sink.rows(`${DB}.${b}`).map((r) => r.id), ['1', '18446744073709551615']);

      const rest = await drain(source, at);
      assert.ok(compareMysqlPositions(rest.to.position as MysqlPosition, plan.snapshot.startPosition as MysqlPosition) > 0);
      const aRows = rest.sink.rows(`${DB}.${a}`);
      // nothing lost at the boundary: the change made after the snapshot start streams in
      assert.deepEqual(aRows.filter((r) => r.op !== 'snapshot'), [{ op: 'update', k1: '2', k2: 'a', v: '30' }]);
      assert.deepEqual(rest.sink.rows(`${DB}.${b}`).filter((r) => r.op !== 'snapshot'), [{ op: 'insert', id: '2', v: 'two' }]);
    } finally {
      await source.close();
    }
  });

  test('a new process starts the snapshot over from a new consistent snapshot, discarding the interrupted copy', async () => {
    const t = uniqueName('snap_restart');
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT)`);
    await db.query(`INSERT INTO ${t} VALUES (1,0),(2,0),(3,0),(4,0),(5,0)`);
    const spec = makeSpec([`${DB}.${t}`], { snapshot: { enabled: true, chunkRows: 2 } });
    const one = newSource(spec);
    let mid: Checkpoint;
    try {
      mid = (await captureOnce(one, await one.prepare())).outcome.to;
    } finally {
      await one.close();
    }
    await db.query(`UPDATE ${t} SET v = 1 WHERE id = 1`);
    const two = newSource(spec);
    try {
      const c = await captureOnce(two, mid);
      assert.equal(c.sink.events, 0);
      const old = mid.snapshot?.startPosition as MysqlPosition;
      assert.deepEqual(c.sink.discarded, [{ table: `${DB}.${t}`, position: `${old.file}:${old.pos}` }]);
      assert.deepEqual(c.outcome.to.snapshot?.tables, [{ table: `${DB}.${t}`, done: false, rows: 0 }]);
      const rest = await drain(two, c.outcome.to);
      assert.deepEqual(rest.sink.rows(`${DB}.${t}`).map((r) => [r.op, r.id, r.v]), [
        ['snapshot', '1', '1'], ['snapshot', '2', '0'], ['snapshot', '3', '0'], ['snapshot', '4', '0'], ['snapshot', '5', '0'],
      ]);
      assert.equal((rest.to.position as MysqlPosition).kind, 'mysql');
    } finally {
      await two.close();
    }
  });

  test('a snapshot batch honours maxRows and maxBytes: every row copied once, in key order', async () => {
    const t = uniqueName('snap_limits');
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v VARCHAR(400))`);
    await db.query(`INSERT INTO ${t} SELECT seq, REPEAT('x', 300) FROM seq_1_to_20`);
    const source = newSource(makeSpec([`${DB}.${t}`], { snapshot: { enabled: true, chunkRows: 1000 } }));
    const copy = async (limits: BatchLimits): Promise<number[]> => {
      const sizes: number[] = [];
      const ids: string[] = [];
      let at = await source.prepare();
      while (at.snapshot !== undefined) {
        const { outcome, sink } = await captureOnce(source, at, limits);
        sizes.push(sink.events);
        ids.push(...sink.rows(`${DB}.${t}`).map((r) => r.id ?? ''));
        at = outcome.to;
      }
      assert.deepEqual(ids, Array.from({ length: 20 }, (_, i) => String(i + 1)));
      return sizes;
    };
    try {
      assert.deepEqual(await copy({ ...LIMITS, maxRows: 7 }), [7, 7, 6]);
      // Each row stages ~350 bytes: a batch stops at the first row that reaches 1 KiB.
      const bySize = await copy({ ...LIMITS, maxBytes: 1024 });
      assert.ok(bySize.length >= 5 && bySize.every((n) => n <= 3), `batch sizes ${bySize.join(', ')}`);
    } finally {
      await source.close();
    }
  });

  test('a table not read yet is copied as it was when the snapshot began; a renamed column starts the copy over', async () => {
    const first = uniqueName('snap_ddl_a');
    const t = uniqueName('snap_ddl_b');
    await db.query(`CREATE TABLE ${first} (id INT PRIMARY KEY)`);
    await db.query(`INSERT INTO ${first} VALUES (1),(2),(3)`);
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT)`);
    await db.query(`INSERT INTO ${t} VALUES (1,1),(2,2),(3,3),(4,4)`);
    const source = newSource(makeSpec([`${DB}.${first}`, `${DB}.${t}`], { snapshot: { enabled: true, chunkRows: 2 } }));
    try {
      // The snapshot holds a lock only on `first` (read), so `t` can change under it.
      const c1 = await captureOnce(source, await source.prepare());
      assert.equal(c1.sink.rows(`${DB}.${first}`).length, 2);
      await db.query(`ALTER TABLE ${t} ADD COLUMN n INT DEFAULT 9`);
      const c2 = await captureOnce(source, c1.outcome.to);
      const c3 = await captureOnce(source, c2.outcome.to);
      // A batch copies at most chunkRows rows, across tables: c2 ends `first` and begins `t`.
      const copied = [...c2.sink.rows(`${DB}.${t}`), ...c3.sink.rows(`${DB}.${t}`)];
      assert.deepEqual(copied, [1, 2, 3].map((i) => ({ op: 'snapshot', id: String(i), v: String(i) })));
      await db.query(`ALTER TABLE ${t} RENAME COLUMN v TO w`);
      const c4 = await captureOnce(source, c3.outcome.to);
      assert.equal(c4.sink.events, 0);
      assert.equal(c4.sink.discarded.length, 2);
      const rest = await drain(source, c4.outcome.to);
      assert.deepEqual(rest.sink.rows(`${DB}.${t}`)[0], { op: 'snapshot', id: '1', w: '1', n: '9' });
    } finally {
      await source.close();
    }
  });

  test('a schema change of a table being copied does not wait for the copy: the snapshot gives way and starts over', async () => {
    const t = uniqueName('snap_yield');
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT)`);
    await db.query(`INSERT INTO ${t} VALUES (1,1),(2,2),(3,3),(4,4),(5,5)`);
    const source = newSource(makeSpec([`${DB}.${t}`], { snapshot: { enabled: true, chunkRows: 2 } }));
    const other = await admin();
    try {
      const c1 = await captureOnce(source, await source.prepare());
      assert.equal(c1.sink.events, 2);
      // Without giving way the ALTER would wait for the whole copy (it fails after 20 s here).
      await other.query('SET SESSION lock_wait_timeout = 20');
      const began = Date.now();
      await other.query(`ALTER TABLE ${t} ADD COLUMN n INT DEFAULT 7`);
      assert.ok(Date.now() - began < 10_000, `the ALTER waited ${Date.now() - began} ms`);
      await other.query(`UPDATE ${t} SET v = 10 WHERE id = 1`);
      const c2 = await captureOnce(source, c1.outcome.to);
      assert.equal(c2.sink.events, 0);
      assert.equal(c2.sink.discarded.length, 1, 'the copy read before the change is discarded');
      const rest = await drain(source, c2.outcome.to);
      assert.deepEqual(rest.sink.rows(`${DB}.${t}`).filter((r) => r.op === 'snapshot').map((r) => [r.id, r.v, r.n]), [
        ['1', '10', '7'], ['2', '2', '7'], ['3', '3', '7'], ['4', '4', '7'], ['5', '5', '7'],
      ]);
    } finally {
      await other.end();
      await source.close();
    }
  });

  // A default MariaDB's information_schema cannot spell (4-byte UTF-8 shows as '?') is read from
  // the table itself (`SELECT DEFAULT(col)`), which takes a metadata lock on it.
  const ODD_DEFAULT = "VARCHAR(20) DEFAULT 'x\u{1F600}y'";

  test('reading an odd column default locks no table the snapshot has not copied: a schema change of it does not wait', async () => {
    const t = uniqueName('snap_dflt');
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, d ${ODD_DEFAULT})`);
    await db.query(`INSERT INTO ${t} (id) VALUES (1),(2),(3)`);
    const source = newSource(makeSpec([`${DB}.${t}`], { snapshot: { enabled: true, chunkRows: 2 } }));
    const other = await admin();
    try {
      const plan = await source.prepare();
      await other.query('SET SESSION lock_wait_timeout = 8');
      const began = Date.now();
      await other.query(`ALTER TABLE ${t} ADD COLUMN n INT DEFAULT 7`);
      assert.ok(Date.now() - began < 4_000, `the ALTER waited ${Date.now() - began} ms`);
      // Copied as it was when the snapshot began (the added column comes with the stream's ALTER).
      const { sink } = await drain(source, plan);
      assert.deepEqual(sink.rows(`${DB}.${t}`).filter((r) => r.op === 'snapshot').map((r) => [r.id, r.d]), [
        ['1', 'x\u{1F600}y'], ['2', 'x\u{1F600}y'], ['3', 'x\u{1F600}y'],
      ]);
    } finally {
      await other.end();
      await source.close();
    }
  });

  test('a schema change waiting for a table being copied does not block the next chunk of it (no deadlock on its odd default)', async () => {
    const t = uniqueName('snap_dflt_wait');
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, d ${ODD_DEFAULT})`);
    await db.query(`INSERT INTO ${t} (id) VALUES (1),(2),(3),(4),(5)`);
    const source = newSource(makeSpec([`${DB}.${t}`], { snapshot: { enabled: true, chunkRows: 2 } }));
    const other = await admin();
    const watcher = await admin();
    try {
      const c1 = await captureOnce(source, await source.prepare());
      assert.equal(c1.sink.events, 2);
      await other.query('SET SESSION lock_wait_timeout = 20');
      const began = Date.now();
      const altered = other.query(`ALTER TABLE ${t} ADD COLUMN n INT DEFAULT 7`).then(() => Date.now() - began);
      for (;;) {
        const [rows] = await watcher.query(`SELECT 1 FROM information_schema.PROCESSLIST WHERE STATE = 'Waiting for table metadata lock' AND INFO LIKE '%${t}%'`);
        if ((rows as unknown[]).length > 0) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      // The ALTER waits for the snapshot; the next chunk must still be read (and the snapshot then ends).
      const c2 = await captureOnce(source, c1.outcome.to);
      const waited = await altered;
      assert.ok(waited < 10_000, `the ALTER waited ${waited} ms`);
      const rest = await drain(source, c2.outcome.to);
      assert.deepEqual(rest.sink.rows(`${DB}.${t}`).filter((r) => r.op === 'snapshot').map((r) => r.id).sort(), ['1', '2', '3', '4', '5']);
    } finally {
      await watcher.end();
      await other.end();
      await source.close();
    }
  });

  test('a table without a primary key is copied with LIMIT/OFFSET in append mode', async () => {
    const t = uniqueName('snap_keyless');
    await db.query(`CREATE TABLE ${t} (v INT)`);
    await db.query(`INSERT INTO ${t} VALUES (1),(2),(3)`);
    const spec = makeSpec([`${DB}.${t}`], { mode: 'append', snapshot: { enabled: true, chunkRows: 2 } });
    const source = newSource(spec);
    try {
      const { sink, batches } = await drain(source, await source.prepare());
      assert.deepEqual(sink.rows(`${DB}.${t}`).map((r) => r.v).sort(), ['1', '2', '3']);
      assert.equal(batches, 2);
    } finally {
      await source.close();
    }
  });
});
