import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PositionLostError } from '../../../src/errors.js';
import type { BatchManifest } from '../../../src/model/batch.js';
import { SpoolWriter } from '../../../src/staging/spool-writer.js';
import type { RowEvent } from '../../../src/model/change-event.js';
import type { Checkpoint } from '../../../src/model/checkpoint.js';
import type { PgPosition } from '../../../src/model/position.js';
import { PostgresSource } from '../../../src/sources/postgres/postgres-source.js';
import { captureOnce, logger, captureUntil, ctx, makeSpec, newSource, LIMITS, sourceSuite, uniqueName, valuesOf } from './pg-test-helpers.js';

describe('PostgreSQL streaming', () => {
  const suite = sourceSuite();
  const sources = suite.sources;

  /** A table with a pipeline streaming it (no snapshot); returns the initial checkpoint. */
  async function streaming(columns = 'id int PRIMARY KEY, v text'): Promise<{ name: string; source: PostgresSource; start: Checkpoint; spec: ReturnType<typeof makeSpec> }> {
    const name = uniqueName('dt_stream');
    await suite.db.query(`CREATE TABLE ${name} (${columns})`);
    const spec = makeSpec(name, [`public.${name}`], { snapshot: { enabled: false, chunkRows: 100 } });
    const source = newSource(spec);
    sources.push(source);
    const start = await source.prepare();
    assert.equal(start.snapshot, undefined);
    assert.equal((start.position as PgPosition).seq, 0, 'starts at the consistent point, nothing included at it');
    return { name, source, start, spec };
  }

  test('capturing twice from the same checkpoint without acknowledging repeats the events', async () => {
    const { name, source, start } = await streaming();
    await suite.db.query(`INSERT INTO ${name} VALUES (1, 'a'), (2, 'b')`);
    await suite.db.query(`UPDATE ${name} SET v = 'c' WHERE id = 1`);
    const first = await captureUntil(source, start, 3);
    assert.equal(first.events.length, 3);
    const again = await captureUntil(source, start, 3);
    assert.deepEqual(again.events, first.events);
    assert.deepEqual(again.to, first.to);
  });

  test('acknowledge moves the slot exactly; a new instance resumes without redelivering, skipping what the slot resends', async () => {
    const { name, source, start, spec } = await streaming();
    await suite.db.query(`INSERT INTO ${name} VALUES (1, 'a')`);
    const a = await captureUntil(source, start, 1);
    await source.acknowledge(a.to);
    const ack = (a.to.position as PgPosition).ackLsn;
    let flushed = '';
    for (let i = 0; i < 50 && flushed !== ack; i++) {
      flushed = (await suite.db.query<{ l: string }>('SELECT confirmed_flush_lsn::text AS l FROM pg_replication_slots WHERE slot_name = $1', [spec.source.kind === 'postgres' ? spec.source.slot : ''])).rows[0]?.l ?? '';
      if (flushed !== ack) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(flushed, ack, 'the server holds exactly the acknowledged LSN (not one past it)');

    await suite.db.query(`INSERT INTO ${name} VALUES (2, 'b')`);
    const b = await captureUntil(source, a.to, 1);
    assert.deepEqual(valuesOf(b.events), [{ op: 'insert', values: ['2', 'b'] }]);
    // b is "loaded" but not acknowledged: the slot still resends it; a restarted worker must skip it.
    await source.close();
    const restarted = newSource(spec);
    sources.push(restarted);
    await suite.db.query(`INSERT INTO ${name} VALUES (3, 'c')`);
    const c = await captureUntil(restarted, b.to, 1);
    assert.deepEqual(valuesOf(c.events), [{ op: 'insert', values: ['3', 'c'] }]);
    const idle = await captureOnce(restarted, c.to, { idleWaitMs: 300 });
    assert.equal(idle.sink.events, 0);
  });

  test('a large transaction is split across batches by maxRows and resumes by seq', async () => {
    const { name, source, start, spec } = await streaming();
    await suite.db.query(`INSERT INTO ${name} SELECT g, 'v' || g FROM generate_series(1, 25) g`);
    const b1 = await captureOnce(source, start, { maxRows: 10, idleWaitMs: 3000 });
    assert.deepEqual(b1.sink.rows.map((e) => e.seq), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const p1 = b1.to.position as PgPosition;
    assert.equal(p1.seq, 10);
    assert.equal(p1.ackLsn, (start.position as PgPosition).ackLsn, 'a split position acknowledges only the previous whole transaction');
    const b2 = await captureOnce(source, b1.to, { maxRows: 10 });
    assert.deepEqual(b2.sink.rows.map((e) => e.values[0]), ['11', '12', '13', '14', '15', '16', '17', '18', '19', '20']);
    assert.equal((b2.to.position as PgPosition).seq, 20);

    // Batch 2 was never loaded: a new worker resumes from batch 1's checkpoint; the server resends
    // the whole transaction and the first 10 events are skipped.
    await source.close();
    const restarted = newSource(spec);
    sources.push(restarted);
    const r2 = await captureOnce(restarted, b1.to, { maxRows: 10, idleWaitMs: 3000 });
    assert.deepEqual(r2.sink.rows, b2.sink.rows);
    const r3 = await captureOnce(restarted, r2.to, { maxRows: 10 });
    assert.deepEqual(r3.sink.rows.map((e) => [e.values[0], e.seq]), [['21', 20], ['22', 21], ['23', 22], ['24', 23], ['25', 24]]);
    const end = r3.to.position as PgPosition;
    assert.equal(end.seq === undefined || end.seq === 0, true, 'whole transaction (or a later boundary)');
  });

  test('ADD COLUMN mid-stream declares the new schema', async () => {
    const { name, source, start } = await streaming();
    await suite.db.query(`INSERT INTO ${name} VALUES (1, 'a')`);
    await suite.db.query(`ALTER TABLE ${name} ADD COLUMN amount numeric(10,2)`);
    await suite.db.query(`INSERT INTO ${name} VALUES (2, 'b', 12.5)`);
    const r = await captureUntil(source, start, 2);
    assert.deepEqual(valuesOf(r.events), [{ op: 'insert', values: ['1', 'a'] }, { op: 'insert', values: ['2', 'b', '12.50'] }]);
    assert.ok(r.schemaChanges.some((n) => n.includes('added column amount (numeric(10,2))')), r.schemaChanges.join('; '));
  });

  test('ADD COLUMN is reported and declared to the sink of the batch that sees it', async () => {
    const { name, source, start } = await streaming();
    await suite.db.query(`ALTER TABLE ${name} ADD COLUMN flag boolean`);
    await suite.db.query(`INSERT INTO ${name} VALUES (1, 'a', true)`);
    const r = await captureOnce(source, start, { idleWaitMs: 3000 });
    assert.deepEqual(r.sink.schemas.at(-1)?.columns.map((c) => [c.name, c.duckType]), [['id', 'INTEGER'], ['v', 'VARCHAR'], ['flag', 'BOOLEAN']]);
    assert.deepEqual(r.sink.rows[0]?.values, ['1', 'a', 'true']);
  });

  test('an unchanged TOASTed value is undefined (not sent), not null', async () => {
    const { name, source, start } = await streaming('id int PRIMARY KEY, body text, n int');
    await suite.db.query(`INSERT INTO ${name} SELECT 1, string_agg(md5(random()::text), ''), 1 FROM generate_series(1, 700)`);
    await suite.db.query(`UPDATE ${name} SET n = 2 WHERE id = 1`);
    await suite.db.query(`UPDATE ${name} SET body = NULL WHERE id = 1`);
    const r = await captureUntil(source, start, 3);
    const [ins, upd, cleared] = r.events as RowEvent[];
    assert.equal((ins?.values[1] as string).length, 700 * 32);
    assert.equal(upd?.values.length, 3);
    assert.equal(upd?.values[1], undefined);
    assert.deepEqual([upd?.values[0], upd?.values[2]], ['1', '2']);
    assert.equal(cleared?.values[1], null);
  });

  test('TRUNCATE arrives as a truncate event', async () => {
    const { name, source, start } = await streaming();
    await suite.db.query(`INSERT INTO ${name} VALUES (1, 'a')`);
    await suite.db.query(`TRUNCATE ${name}`);
    const r = await captureUntil(source, start, 2);
    assert.deepEqual(r.events.map((e) => [e.op, e.table]), [['insert', `public.${name}`], ['truncate', `public.${name}`]]);
  });

  test('schema.* picks up a table created later, without a restart', async () => {
    const schema = uniqueName('dt_schema');
    await suite.db.query(`CREATE SCHEMA ${schema}`);
    await suite.db.query(`CREATE TABLE ${schema}.a (id int PRIMARY KEY)`);
    const spec = makeSpec(schema, [`${schema}.*`], { snapshot: { enabled: false, chunkRows: 100 } });
    const source = newSource(spec);
    sources.push(source);
    const start = await source.prepare();
    const idle = await captureOnce(source, start, { idleWaitMs: 200 });
    await suite.db.query(`CREATE TABLE ${schema}.later (id int PRIMARY KEY, t text)`);
    await suite.db.query(`INSERT INTO ${schema}.a VALUES (1)`);
    await suite.db.query(`INSERT INTO ${schema}.later VALUES (7, 'new')`);
    const r = await captureUntil(source, idle.to, 2);
    assert.deepEqual(r.events.map((e) => e.table), [`${schema}.a`, `${schema}.later`]);
    assert.ok(r.schemaChanges.some((n) => n.startsWith(`${schema}.later: new table`)), r.schemaChanges.join('; '));
    await source.teardown();
    await suite.db.query(`DROP SCHEMA ${schema} CASCADE`);
  });

  test('tables outside the selection are ignored when the publication is wider', async () => {
    const schema = uniqueName('dt_wide');
    await suite.db.query(`CREATE SCHEMA ${schema}`);
    await suite.db.query(`CREATE TABLE ${schema}.a (id int PRIMARY KEY)`);
    await suite.db.query(`CREATE TABLE ${schema}.other (id int PRIMARY KEY)`);
    await suite.db.query(`CREATE PUBLICATION ${schema} FOR TABLES IN SCHEMA ${schema}`);
    const spec = makeSpec(schema, [`${schema}.a`], { snapshot: { enabled: false, chunkRows: 100 } });
    const source = newSource(spec);
    sources.push(source);
    const start = await source.prepare();
    await suite.db.query(`INSERT INTO ${schema}.other VALUES (1)`);
    await suite.db.query(`INSERT INTO ${schema}.a VALUES (2)`);
    const r = await captureUntil(source, start, 1);
    assert.deepEqual(valuesOf(r.events), [{ op: 'insert', values: ['2'] }]);
    assert.ok(r.events.every((e) => e.table === `${schema}.a`));
    await source.teardown();
    await suite.db.query(`DROP SCHEMA ${schema} CASCADE`);
  });

  test('a quiet table still reaches a catch-up target: idle keepalives advance the position', async () => {
    const { name, source, start } = await streaming();
    const noise = uniqueName('dt_noise');
    await suite.db.query(`CREATE TABLE ${noise} (id int)`);
    await suite.db.query(`INSERT INTO ${noise} SELECT generate_series(1, 100)`); // WAL that is not ours
    const target = await source.currentPosition();
    assert.equal(source.reached(start, target), false);
    let at = start;
    for (let i = 0; i < 5 && !source.reached(at, target); i++) at = (await captureOnce(source, at, { idleWaitMs: 500 })).to;
    assert.equal(source.reached(at, target), true, `stuck at ${source.describe(at.position as PgPosition)}`);
    assert.equal(source.lagBytes(at, target), 0);
    // Nothing is skipped by the advanced position: a change right after it still arrives.
    await suite.db.query(`INSERT INTO ${name} VALUES (1, 'after')`);
    const r = await captureUntil(source, at, 1);
    assert.deepEqual(valuesOf(r.events), [{ op: 'insert', values: ['1', 'after'] }]);
  });

  test('a slot that moved past the loaded position is reported as lost', async () => {
    const { source, start, spec } = await streaming();
    await source.teardown();
    const recreated = newSource(spec);
    sources.push(recreated);
    await suite.db.query('SELECT pg_switch_wal()');
    await recreated.prepare();
    await assert.rejects(captureOnce(recreated, start), (e: unknown) => e instanceof PositionLostError && /past the loaded position/.test(e.message));
  });

  test('a schema change after rows of the table ends the batch; the next batch starts with it, mid-transaction too', async () => {
    const { name, source, start } = await streaming();
    await suite.db.query(`INSERT INTO ${name} VALUES (1, 'a')`);
    await suite.db.query(`BEGIN; UPDATE ${name} SET v = 'a2' WHERE id = 1; ALTER TABLE ${name} ADD COLUMN n int DEFAULT 7; INSERT INTO ${name} VALUES (2, 'b', 3); COMMIT`);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-spool-'));
    try {
      const batches: BatchManifest[] = [];
      let from = start;
      for (let b = 1; b <= 2; b++) {
        const spool = await SpoolWriter.create(path.join(dir, `b${b}`), 'p', `b${b}`, from);
        const out = await source.capture(from, spool, { ...LIMITS, idleWaitMs: 3000 }, ctx);
        await spool.finish(out.to, out.schemaChanges);
        batches.push(JSON.parse(await readFile(path.join(dir, `b${b}`, 'manifest.json'), 'utf8')) as BatchManifest);
        from = out.to;
      }
      const shape = (m: BatchManifest): unknown => m.segments.map((seg) => (seg.kind === 'rows' ? [seg.rows, seg.schema.columns.map((c) => c.name)] : [seg.kind]));
      // The DDL trigger's message declares the new shape first (without it, the rows bring it).
      assert.deepEqual(batches.map(shape), [[[2, ['id', 'v']]], [['schema'], [1, ['id', 'v', 'n']]]]);
      assert.equal(batches[0]?.to.position?.kind === 'pg' && batches[0].to.position.seq, 1, 'the first batch ends inside the transaction');
      const added = batches[1]?.segments[1];
      assert.ok(added?.kind === 'rows');
      assert.deepEqual(added.schema.columns.map((c) => [c.name, c.id, c.backfill]), [['id', 1, undefined], ['v', 2, undefined], ['n', 3, '7']]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a schema change with no row change after it is declared once the stream passed it', async () => {
    const { name, spec, start } = await streaming();
    const source = new PostgresSource(spec, { logger, schemaProbeMs: 0 });
    sources.push(source);
    await suite.db.query(`INSERT INTO ${name} VALUES (1, 'a')`);
    const first = await captureOnce(source, start);
    assert.equal(first.sink.rows.length, 1);
    assert.deepEqual(first.sink.tablesDeclared, [], 'a table the batch wrote is not declared again');
    const second = await captureOnce(source, first.to);
    assert.deepEqual(second.sink.tablesDeclared.map((t) => t.table), [], 'the shape rows were written under is the current one');
    await suite.db.query(`ALTER TABLE ${name} ADD COLUMN n int DEFAULT 7; ALTER TABLE ${name} RENAME COLUMN v TO w`);
    const third = await captureOnce(source, second.to);
    // With the DDL trigger each ALTER brings its shape; without it the probe finds the last one.
    assert.deepEqual(third.sink.tablesDeclared.at(-1)?.columns.map((c) => [c.name, c.id, c.backfill]), [['id', 1, undefined], ['w', 2, undefined], ['n', 3, '7']]);
    assert.ok(third.schemaChanges.some((n) => n.includes('added column n')), third.schemaChanges.join('; '));
    const fourth = await captureOnce(source, third.to);
    assert.deepEqual(fourth.sink.tablesDeclared, [], 'declared once');
  });

  test('the DDL trigger puts every shape in the stream: a column added, written, then renamed and changed again', async () => {
    const { name, spec, start } = await streaming();
    const source = new PostgresSource(spec, { logger, schemaProbeMs: 3_600_000 });
    sources.push(source);
    await source.prepare(); // installs the trigger (the tests run as a superuser)
    await suite.db.query(`INSERT INTO ${name} VALUES (1, 'a')`);
    await suite.db.query(`ALTER TABLE ${name} ADD COLUMN c int DEFAULT 7`);
    await suite.db.query(`INSERT INTO ${name} VALUES (2, 'b', 8)`);
    await suite.db.query(`ALTER TABLE ${name} RENAME COLUMN c TO d`);
    await suite.db.query(`ALTER TABLE ${name} DROP COLUMN d`);
    await suite.db.query(`ALTER TABLE ${name} ADD COLUMN d text DEFAULT 'x'`);
    // Read only now: the catalog has moved on from what the second insert was written under.
    const got = await captureUntil(source, start, 2);
    const declared: string[] = [];
    const renamed: unknown[] = [];
    let at = start;
    for (let i = 0; i < 8 && declared.length < 4; i++) {
      const r = await captureOnce(source, at);
      renamed.push(...r.sink.renames);
      declared.push(...r.sink.tablesDeclared.map((t) => t.columns.map((c) => `${c.name}#${String(c.id)}=${String(c.backfill)}`).join(',')));
      at = r.to;
    }
    assert.deepEqual(renamed, [{ table: `public.${name}`, renames: [{ from: 'c', to: 'd' }] }]);
    assert.deepEqual(declared, [
      'id#1=undefined,v#2=undefined,c#3=7',
      'id#1=undefined,v#2=undefined,d#3=7',
      'id#1=undefined,v#2=undefined',
      'id#1=undefined,v#2=undefined,d#4=x',
    ]);
    const second = got.events.find((e) => e.op === 'insert' && e.values[0] === '2');
    assert.deepEqual(second?.op === 'insert' ? second.values : null, ['2', 'b', '8']);
  });
});
