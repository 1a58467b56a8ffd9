import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import type { Checkpoint } from '../../../src/model/checkpoint.js';
import { admin, drain, makeSpec, newSource, type RecordingSink, uniqueName } from './mysql-kit.js';

/** `[columns "name:duckType", values]` per event of `table`, for comparing schemas with rows. */
function shaped(sink: RecordingSink, table: string): string[] {
  return sink.records
    .filter((r) => r.event.table === table && r.event.op !== 'truncate')
    .map(({ event, schema }) => {
      const cols = schema.columns.map((c) => `${c.name}:${c.duckType}`).join(',');
      const values = event.op === 'truncate' ? [] : event.values;
      return `${event.op} [${cols}] ${JSON.stringify(values)}`;
    });
}

describe('mysql schema changes', () => {
  let db: Connection;
  let evo: string;
  before(async () => {
    db = await admin();
    evo = uniqueName('ducktail_test_my_evo');
    await db.query(`CREATE DATABASE ${evo}`);
  });
  after(async () => {
    await db.query(`DROP DATABASE IF EXISTS ${evo}`);
    await db.end();
  });

  test('ADD / DROP / RENAME / MODIFY COLUMN and new tables, live and replayed after the ALTERs', async () => {
    const t = `${evo}.evolve`;
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, a INT, b VARCHAR(10))`);
    const spec = makeSpec([`${evo}.*`]);
    const live = newSource(spec);
    let start: Checkpoint;
    const liveChanges: string[] = [];
    const liveShapes: string[] = [];
    const step = async (sql: string): Promise<void> => {
      await db.query(sql);
      const r = await drain(live, at);
      at = r.to;
      liveChanges.push(...r.schemaChanges);
      liveShapes.push(...shaped(r.sink, t), ...shaped(r.sink, `${evo}.fresh`));
    };
    let at: Checkpoint;
    try {
      start = await live.prepare();
      at = start;
      await step(`INSERT INTO ${t} VALUES (1, 1, 'x')`);
      await step(`ALTER TABLE ${t} ADD COLUMN c DECIMAL(10,2); INSERT INTO ${t} VALUES (2, 2, 'y', 1.5)`);
      await step(`ALTER TABLE ${t} DROP COLUMN a; INSERT INTO ${t} VALUES (3, 'z', 2.5)`);
      await step(`ALTER TABLE ${t} RENAME COLUMN b TO bb; INSERT INTO ${t} VALUES (4, 'w', 3)`);
      await step(`ALTER TABLE ${t} MODIFY COLUMN c VARCHAR(20); INSERT INTO ${t} VALUES (5, 'v', 'text')`);
      await step(`CREATE TABLE ${evo}.fresh (k VARCHAR(5) PRIMARY KEY, n INT); INSERT INTO ${evo}.fresh VALUES ('k1', 7)`);
    } finally {
      await live.close();
    }

    const expected = [
      `insert [id:INTEGER,a:INTEGER,b:VARCHAR] ["1","1","x"]`,
      `insert [id:INTEGER,a:INTEGER,b:VARCHAR,c:DECIMAL(10,2)] ["2","2","y","1.50"]`,
      `insert [id:INTEGER,b:VARCHAR,c:DECIMAL(10,2)] ["3","z","2.50"]`,
      `insert [id:INTEGER,bb:VARCHAR,c:DECIMAL(10,2)] ["4","w","3.00"]`,
      `insert [id:INTEGER,bb:VARCHAR,c:VARCHAR] ["5","v","text"]`,
      `insert [k:VARCHAR,n:INTEGER] ["k1","7"]`,
    ];
    assert.deepEqual(liveShapes, expected);
    for (const note of [
      `${t}: added column c (decimal(10,2))`,
      `${t}: column a dropped at the source (kept, null from now on)`,
      `${t}: column b renamed to bb`,
      `${t}: column c changed type decimal(10,2) -> varchar(20)`,
      `${evo}.fresh: new table (2 columns)`,
    ]) {
      assert.ok(liveChanges.includes(note), `missing schema change note: ${note}\n${liveChanges.join('\n')}`);
    }
    assert.ok(liveChanges.some((n) => n.startsWith(`${t}: ALTER TABLE`)));
    assert.ok(!liveChanges.some((n) => n.startsWith(`${t}: added column bb`)), 'a rename is not an add');

    // A new process replays the binlog written before the later ALTERs: rows keep their own columns.
    const replay = newSource(spec);
    try {
      const r = await drain(replay, start);
      assert.deepEqual([...shaped(r.sink, t), ...shaped(r.sink, `${evo}.fresh`)], expected);
      assert.deepEqual(r.sink.records.find((x) => x.event.table === `${evo}.fresh`)?.schema.primaryKey, ['k']);
    } finally {
      await replay.close();
    }
  });

  test('an ALTER with no row change after it is declared with the default existing rows read', async () => {
    const t = `${evo}.quiet`;
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, a INT); INSERT INTO ${t} VALUES (1, 1)`);
    const source = newSource(makeSpec([t]), 0);
    try {
      const start = await source.prepare();
      const first = await drain(source, start);
      assert.deepEqual(first.sink.tablesDeclared.map((s) => s.table), [t], 'every table once after the stream opened');
      await db.query(`ALTER TABLE ${t} ADD COLUMN note VARCHAR(10) NOT NULL DEFAULT 'n/a', ADD COLUMN k INT NOT NULL`);
      const second = await drain(source, first.to);
      assert.deepEqual(second.sink.tablesDeclared.map((s) => JSON.stringify(s.columns.map((c) => [c.name, c.backfill]))), [JSON.stringify([['id', '0'], ['a', null], ['note', 'n/a'], ['k', '0']])]);
      assert.equal(second.sink.events, 0);
    } finally {
      await source.close();
    }
  });
  test('a TRUNCATE replayed after a restart does not take the newer catalog shape for the table', async () => {
    const t = `${evo}.trunc_replay`;
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT, gone INT)`);
    await db.query(`INSERT INTO ${t} VALUES (1, 1, 1)`);
    const first = newSource(makeSpec([t]), 0);
    let at: Checkpoint;
    try {
      at = (await drain(first, await first.prepare())).to;
    } finally {
      await first.close();
    }
    await db.query(`TRUNCATE TABLE ${t}`);
    await db.query(`INSERT INTO ${t} VALUES (2, 2, 7)`);
    await db.query(`ALTER TABLE ${t} DROP COLUMN gone`);
    await db.query(`INSERT INTO ${t} VALUES (3, 3)`);
    // A new process (a restarted worker) knows only the catalog now, where `gone` is gone.
    const second = newSource(makeSpec([t]), 0);
    try {
      const { sink } = await drain(second, at);
      const truncates = sink.records.filter((r) => r.event.op === 'truncate').map((r) => r.event);
      assert.deepEqual(truncates.map((e) => e.op === 'truncate' && e.shapeOnlyIfNew), [true]);
      assert.deepEqual(sink.rows(t).filter((r) => r.op !== 'truncate'), [
        { op: 'insert', id: '2', v: '2', gone: '7' },
        { op: 'insert', id: '3', v: '3' },
      ]);
    } finally {
      await second.close();
    }
  });
});
