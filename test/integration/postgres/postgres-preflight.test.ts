import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NoPrimaryKeyError, SourceConnectionError, SourceSettingError, TableNotFoundError } from '../../../src/errors.js';
import type { PipelineSpec, PostgresSourceSpec } from '../../../src/model/pipeline-spec.js';
import type { PgPosition } from '../../../src/model/position.js';
import type { PostgresSource } from '../../../src/sources/postgres/postgres-source.js';
import { makeSpec, newSource, sourceSuite, uniqueName } from './pg-test-helpers.js';

describe('PostgreSQL preflight, prepare and teardown', () => {
  const suite = sourceSuite();
  const sources = suite.sources;
  const track = (spec: PipelineSpec): PostgresSource => {
    const s = newSource(spec);
    sources.push(s);
    return s;
  };

  test('a good table passes without warnings, TOAST-able columns included', async () => {
    const name = uniqueName('dt_pf');
    await suite.db.query(`CREATE TABLE ${name} (id bigint PRIMARY KEY, body text, n int)`);
    const report = await track(makeSpec(name, [`public.${name}`])).preflight();
    assert.deepEqual(report.tables.map((t) => [t.table, t.primaryKey, t.columns.map((c) => c.duckType)]), [[`public.${name}`, ['id'], ['BIGINT', 'VARCHAR', 'INTEGER']]]);
    assert.deepEqual(report.warnings, []);
  });

  test('a missing table names similar ones', async () => {
    const name = uniqueName('dt_orders');
    await suite.db.query(`CREATE TABLE ${name} (id int PRIMARY KEY)`);
    const typo = `${name.slice(0, -1)}x_`;
    await assert.rejects(track(makeSpec(name, [`public.${typo}`])).preflight(), (e: unknown) => {
      assert.ok(e instanceof TableNotFoundError);
      assert.match(e.message, new RegExp(`public.${typo} does not exist`));
      assert.match(e.message, new RegExp(`did you mean public.${name}`));
      return true;
    });
  });

  test('no primary key: error in merge mode, fine in append with REPLICA IDENTITY FULL', async () => {
    const name = uniqueName('dt_nopk');
    await suite.db.query(`CREATE TABLE ${name} (v int)`);
    await assert.rejects(track(makeSpec(name, [`public.${name}`])).preflight(), (e: unknown) => e instanceof NoPrimaryKeyError && /keyless: append/.test(e.message));
    await assert.rejects(track(makeSpec(name, [`public.${name}`], { keyless: 'append' })).preflight(), /REPLICA IDENTITY FULL/);
    await suite.db.query(`ALTER TABLE ${name} REPLICA IDENTITY FULL`);
    const ok = await track(makeSpec(name, [`public.${name}`], { keyless: 'append' })).preflight();
    assert.deepEqual(ok.tables[0]?.primaryKey, []);
  });

  test('REPLICA IDENTITY NOTHING is refused', async () => {
    const name = uniqueName('dt_nothing');
    await suite.db.query(`CREATE TABLE ${name} (id int PRIMARY KEY)`);
    await suite.db.query(`ALTER TABLE ${name} REPLICA IDENTITY NOTHING`);
    await assert.rejects(track(makeSpec(name, [`public.${name}`])).preflight(), (e: unknown) => e instanceof SourceSettingError && /NOTHING/.test(e.message));
  });

  test('connection failures: unknown database is not retryable, an unreachable server is', async () => {
    const spec = makeSpec('dt_conn', ['public.x']);
    const badDb = { ...spec, source: { ...(spec.source as PostgresSourceSpec), database: 'dt_no_such_db' } };
    await assert.rejects(track(badDb).preflight(), (e: unknown) => e instanceof SourceConnectionError && e.nonRetryable);
    const badPort = { ...spec, source: { ...(spec.source as PostgresSourceSpec), port: 1 } };
    await assert.rejects(track(badPort).preflight(), (e: unknown) => e instanceof SourceConnectionError && !e.nonRetryable && /reachable/.test(e.message));
  });

  test('prepare is idempotent, extends the publication, and teardown removes slot and publication', async () => {
    const a = uniqueName('dt_prep_a');
    const b = uniqueName('dt_prep_b');
    await suite.db.query(`CREATE TABLE ${a} (id int PRIMARY KEY)`);
    await suite.db.query(`CREATE TABLE ${b} (id int PRIMARY KEY)`);
    const spec = makeSpec(a, [`public.${a}`], { snapshot: { enabled: false, chunkRows: 10 } });
    const first = track(spec);
    const p1 = await first.prepare();
    await first.close();
    const wider = track({ ...spec, source: { ...(spec.source as PostgresSourceSpec), tables: [`public.${a}`, `public.${b}`] } });
    const p2 = await wider.prepare();
    assert.equal((p2.position as PgPosition).lsn, (p1.position as PgPosition).lsn, 'the existing slot is reused');
    const published = await suite.db.query('SELECT tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1', [a]);
    assert.deepEqual(published.rows.map((r: { tablename: string }) => r.tablename), [a, b].sort());
    await wider.teardown();
    assert.equal((await suite.db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [a])).rowCount, 0);
    assert.equal((await suite.db.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [a])).rowCount, 0);
  });
});
