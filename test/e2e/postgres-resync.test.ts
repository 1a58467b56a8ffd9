import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type pg from 'pg';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { parseLsn } from '../../src/sources/postgres/postgres-position.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { pipelineHandle, queryStatus } from '../../src/temporal/pipeline-contract.js';
import type { PipelineStatus } from '../../src/workflows/pipeline-state.js';
import { startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { dropPgReplication, ensurePgDatabase, PG_HOST, PG_PORT, PG_USER, pgConnect } from '../helpers/postgres.js';
import { runCli, testServer } from '../helpers/temporal.js';
import { WorkerProcess } from '../helpers/worker-process.js';

const DB = 'ducktail_e2e';
const TQ = 'e2e-resync';
const ROWS = 1500;

/** Runs statements on a DuckDB file no other process holds, then closes it. */
async function onFile(file: string, statements: string[]): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(file);
  const c = await db.connect();
  try {
    let rows: Record<string, unknown>[] = [];
    for (const sql of statements) rows = (await c.runAndReadAll(sql)).getRowObjectsJson();
    return rows;
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** Orders PostgreSQL `__position` values (LSN text), then `__seq`. */
function byPosition(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const pa = parseLsn(String(a.__position));
  const pb = parseLsn(String(b.__position));
  if (pa !== pb) return pa < pb ? -1 : 1;
  return Number(a.__seq) - Number(b.__seq);
}

describe('ducktail resync (real PostgreSQL, DuckDB, Temporal, worker process)', () => {
  let server: DevServer;
  let pgc: pg.Client;
  let dir: string;
  let worker: WorkerProcess | undefined;

  before(async () => {
    await ensurePgDatabase(DB);
    pgc = await pgConnect(DB);
    await dropPgReplication(pgc, 'ducktail_e2e_rs');
    await pgc.query('DROP PUBLICATION IF EXISTS ducktail_e2e_rs_add_pub');
    await pgc.query('DROP SCHEMA IF EXISTS e2e_rs CASCADE; CREATE SCHEMA e2e_rs');
    await pgc.query('CREATE TABLE e2e_rs.items (id int PRIMARY KEY, v int NOT NULL, pad text)');
    await pgc.query('CREATE TABLE e2e_rs.other (a int, b text, v int NOT NULL, PRIMARY KEY (a, b))');
    await pgc.query(`INSERT INTO e2e_rs.items SELECT g, 0, repeat('x', 50) FROM generate_series(1, ${ROWS}) g`);
    await pgc.query(`INSERT INTO e2e_rs.other SELECT g, 'k' || g, 0 FROM generate_series(1, 50) g`);
    dir = await tempDir('ducktail-resync');
    server = await testServer();
  });

  after(async () => {
    await worker?.kill('SIGKILL');
    await server?.stop();
    await dropPgReplication(pgc, 'ducktail_e2e_rs');
    await pgc?.end();
  });

  test('repairs a tampered copy while changes keep flowing, across a worker SIGKILL mid-copy; MERGE equal, APPEND audit-equal', { timeout: 600_000 }, async () => {
    const source = { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB, tables: ['e2e_rs.items', 'e2e_rs.other'] };
    const common = { batch: { maxRows: 300, maxWaitMs: 100, idleWaitMs: 300 }, snapshot: { chunkRows: 100 } };
    const configFile = path.join(dir, 'ducktail.yaml');
    await writeFile(
      configFile,
      stringify({
        temporal: { taskQueue: TQ },
        pipelines: [
          { name: 'e2e_rs_merge', source: { ...source, slot: 'ducktail_e2e_rs_merge_slot' }, destination: { path: 'merge.duckdb' }, mode: 'merge', ...common },
          { name: 'e2e_rs_append', source: { ...source, slot: 'ducktail_e2e_rs_append_slot' }, destination: { path: 'append.duckdb' }, mode: 'append', ...common },
        ],
      }),
    );
    const config = await loadConfig(configFile);
    const client = server.env.client;
    const mergeFile = path.join(dir, 'merge.duckdb');
    const appendFile = path.join(dir, 'append.duckdb');

    worker = new WorkerProcess(configFile, server.address);
    for (const spec of config.pipelines) await startPipelineWorkflow(client, TQ, spec);
    for (const spec of config.pipelines) await waitForStatus(client, spec.name, 'snapshot done, streaming', (s) => s.phase === 'streaming', 90_000);

    // The copy goes wrong behind the pipeline's back: one changed row, one missing, one extra live, one wrongly deleted.
    await worker.kill('SIGTERM');
    await onFile(mergeFile, [
      'UPDATE e2e_rs.items SET v = -7 WHERE id = 10',
      'DELETE FROM e2e_rs.items WHERE id = 20',
      "INSERT INTO e2e_rs.items (id, v, pad, __deleted, __op, __position) VALUES (999999, 1, 'ghost', false, 'insert', '0/1')",
      'UPDATE e2e_rs.items SET __deleted = true WHERE id = 30',
    ]);
    worker = new WorkerProcess(configFile, server.address);

    // Changes keep coming on both tables, until the copy is done.
    let writing = true;
    const writer = (async () => {
      for (let t = 0; writing; t++) {
        await pgc.query('BEGIN');
        await pgc.query('UPDATE e2e_rs.items SET v = v + 1 WHERE id IN (SELECT id FROM e2e_rs.items ORDER BY random() LIMIT 20)');
        await pgc.query(`INSERT INTO e2e_rs.items SELECT 100000 + $1 * 5 + g, 1, 'n' FROM generate_series(1, 5) g`, [t]);
        await pgc.query('DELETE FROM e2e_rs.items WHERE id IN (SELECT id FROM e2e_rs.items WHERE id > 40 ORDER BY random() LIMIT 3)');
        await pgc.query('UPDATE e2e_rs.other SET v = v + 1 WHERE a = $1', [1 + (t % 50)]);
        await pgc.query('COMMIT');
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const cli = (args: string[]) => runCli(['--config', configFile, '--address', server.address, ...args]);
    const bad = await cli(['resync', 'e2e_rs_merge', 'e2e_rs.nope']);
    assert.equal(bad.code, 1, 'an unknown table is refused');
    assert.match(bad.stderr, /does not replicate a table e2e_rs\.nope/);

    const merge = cli(['resync', 'e2e_rs_merge', 'e2e_rs.items', '--wait', '--timeout', '300']);
    const append = cli(['resync', 'e2e_rs_append', 'e2e_rs.items', '--wait', '--timeout', '300']);

    // Kill the worker once the merge copy has loaded a few chunks: it goes on after the last one loaded.
    let progress: PipelineStatus | undefined;
    for (;;) {
      progress = await queryStatus(pipelineHandle(client, 'e2e_rs_merge')).catch(() => undefined);
      if ((progress?.checkpoint?.backfill?.tables[0]?.chunks ?? 0) >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(progress?.backfillProgress ?? '', /e2e_rs\.items \(resync\): [\d,]+\/~[\d,]+ rows copied in \d+ chunks/);
    const other = progress?.counts['e2e_rs.other']?.update ?? 0;
    await worker.kill('SIGKILL');
    worker = new WorkerProcess(configFile, server.address);

    const [m, a] = await Promise.all([merge, append]);
    assert.equal(m.code, 0, `merge resync: ${m.stdout}${m.stderr}`);
    assert.equal(a.code, 0, `append resync: ${a.stdout}${a.stderr}`);
    assert.match(m.stdout, /e2e_rs\.items copied again/);
    writing = false;
    await writer;

    // Wait until both pipelines have loaded everything the source has now.
    const [{ lsn }] = (await pgc.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows as [{ lsn: string }];
    for (const spec of config.pipelines) {
      const s = await waitForStatus(client, spec.name, 'caught up', (x) => {
        const p = x.checkpoint?.position;
        return p?.kind === 'pg' && parseLsn(p.ackLsn) >= parseLsn(lsn);
      }, 120_000);
      assert.equal(s.backfillProgress, undefined);
      assert.equal(s.lastError, null);
      assert.ok((s.counts['e2e_rs.other']?.update ?? 0) > other || spec.name !== 'e2e_rs_merge', 'the other table kept streaming during the copy');
    }
    for (const p of config.pipelines) await pipelineHandle(client, p.name).cancel();
    for (const p of config.pipelines) await pipelineHandle(client, p.name).result();
    await worker.kill('SIGTERM');

    const expected = (await pgc.query<{ id: number; v: number }>('SELECT id, v FROM e2e_rs.items ORDER BY id')).rows;
    const merged = await onFile(mergeFile, ['SELECT id, v FROM e2e_rs.items WHERE NOT __deleted ORDER BY id']);
    const want = new Map(expected.map((r) => [r.id, r.v]));
    const got = new Map(merged.map((r) => [Number(r.id), Number(r.v)]));
    const wrong = [...new Set([...want.keys(), ...got.keys()])].filter((id) => want.get(id) !== got.get(id));
    const detail = wrong.slice(0, 10).map((id) => `${id}: source ${want.get(id)}, copy ${got.get(id)}`);
    assert.deepEqual(detail, [], `MERGE live rows equal the source (${wrong.length} keys differ)`);
    const ghost = await onFile(mergeFile, ['SELECT __deleted, __op FROM e2e_rs.items WHERE id = 999999']);
    assert.deepEqual(ghost, [{ __deleted: true, __op: 'delete' }], 'the extra row ends deleted');
    const internal = await onFile(mergeFile, ["SELECT count(*)::INT AS n FROM duckdb_tables() WHERE schema_name = '_ducktail' AND starts_with(table_name, 'unseen ')"]);
    assert.deepEqual(internal, [{ n: 0 }], 'no copy state is left behind');

    // APPEND: per key, the last event (in stream order) is the source's row; deleted keys end with a delete.
    const events = await onFile(appendFile, ['SELECT id, v, __op, __position, __seq FROM e2e_rs.items']);
    const last = new Map<number, Record<string, unknown>>();
    for (const e of events.sort(byPosition)) last.set(Number(e.id), e);
    const live = [...last.values()].filter((e) => e.__op !== 'delete').map((e) => ({ id: Number(e.id), v: Number(e.v) })).sort((x, y) => x.id - y.id);
    assert.deepEqual(live, expected, 'APPEND replays to the source');
    const copies = events.filter((e) => e.__op === 'snapshot');
    const perKeyAndPosition = new Set(copies.map((e) => `${String(e.id)}@${String(e.__position)}`));
    assert.equal(perKeyAndPosition.size, copies.length, 'no copied row is written twice at one position');
    const seen = new Map<string, Record<string, unknown>>();
    const twice: string[] = [];
    // The initial snapshot's rows are numbered apart (at the snapshot's start position).
    const initial = events.find((e) => e.__op === 'snapshot')?.__position;
    for (const e of events.filter((x) => !(x.__op === 'snapshot' && x.__position === initial))) {
      const at = `${String(e.__position)}#${String(e.__seq)}`;
      const before = seen.get(at);
      if (before !== undefined) twice.push(`${at}: ${JSON.stringify(before)} and ${JSON.stringify(e)}`);
      seen.set(at, e);
    }
    assert.deepEqual(twice.slice(0, 5), [], `no APPEND row is duplicated (${twice.length} positions twice)`);
    assert.ok(copies.length >= ROWS + 1000, `the initial snapshot and the re-sync both copied rows (${copies.length})`);
  });

  test('a table added to the running pipeline is copied while the others stream; a volatile default is repaired by resync', { timeout: 600_000 }, async () => {
    await pgc.query('CREATE TABLE e2e_rs.added (id int PRIMARY KEY, v int NOT NULL)');
    await pgc.query('INSERT INTO e2e_rs.added SELECT g, 0 FROM generate_series(1, 800) g');
    const source = { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB, slot: 'ducktail_e2e_rs_add_slot', publication: 'ducktail_e2e_rs_add_pub' };
    const pipeline = (tables: string[]) => ({
      temporal: { taskQueue: TQ },
      pipelines: [{ name: 'e2e_rs_add', source: { ...source, tables }, destination: { path: 'add.duckdb' }, mode: 'merge', batch: { maxRows: 300, maxWaitMs: 100, idleWaitMs: 300 }, snapshot: { chunkRows: 100 } }],
    });
    const configFile = path.join(dir, 'add.yaml');
    const file = path.join(dir, 'add.duckdb');
    await writeFile(configFile, stringify(pipeline(['e2e_rs.other'])));
    const client = server.env.client;
    const cli = (args: string[]) => runCli(['--config', configFile, '--address', server.address, ...args]);
    worker = new WorkerProcess(configFile, server.address);
    const started = await cli(['start']);
    assert.equal(started.code, 0, started.stderr);
    await waitForStatus(client, 'e2e_rs_add', 'streaming', (s) => s.phase === 'streaming', 90_000);

    let writing = true;
    const writer = (async () => {
      for (let t = 0; writing; t++) {
        await pgc.query('BEGIN');
        await pgc.query('UPDATE e2e_rs.added SET v = v + 1 WHERE id IN (SELECT id FROM e2e_rs.added ORDER BY random() LIMIT 10)');
        await pgc.query('INSERT INTO e2e_rs.added VALUES ($1, 1)', [10_000 + t]);
        await pgc.query('DELETE FROM e2e_rs.added WHERE id IN (SELECT id FROM e2e_rs.added ORDER BY random() LIMIT 1)');
        await pgc.query('UPDATE e2e_rs.other SET v = v + 1 WHERE a = $1', [1 + (t % 50)]);
        await pgc.query('COMMIT');
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    await writeFile(configFile, stringify(pipeline(['e2e_rs.other', 'e2e_rs.added'])));
    const again = await cli(['start']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already running .*spec updated:\n {2}tables added: e2e_rs\.added/);
    const before = (await queryStatus(pipelineHandle(client, 'e2e_rs_add'))).counts['e2e_rs.other']?.update ?? 0;
    const copied = await waitForStatus(client, 'e2e_rs_add', 'the added table copied', (s) => (s.backfillRequests ?? []).length === 0 && s.backfillProgress === undefined && (s.counts['e2e_rs.added']?.snapshot ?? 0) > 0, 180_000);
    assert.ok((copied.counts['e2e_rs.other']?.update ?? 0) > before, 'the other table kept streaming during the copy');

    // ducktail query reads the file while the pipeline keeps loading (the writer still writes).
    const table = await cli(['query', 'SELECT count(*) AS live FROM e2e_rs.added WHERE NOT __deleted']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /│ live +│|\| live +\||live/);
    assert.match(table.stdout, /1 row$/m);
    const json = await cli(['query', '--pipeline', 'e2e_rs_add', '--json', "SELECT id, v FROM e2e_rs.added WHERE id <= 3 AND NOT __deleted ORDER BY id"]);
    assert.equal(json.code, 0, json.stderr);
    const got = JSON.parse(json.stdout) as { id: number; v: number }[];
    assert.ok(got.length > 0 && got.every((r) => typeof r.id === 'number' && typeof r.v === 'number'), json.stdout);
    const csv = await cli(['query', '--csv', "SELECT 'a,b' AS x, 1 AS n"]);
    assert.equal(csv.stdout, 'x,n\n"a,b",1\n');
    const write = await cli(['query', 'DELETE FROM e2e_rs.added']);
    assert.equal(write.code, 1, 'a query that writes is refused');
    assert.match(write.stderr, /query only reads/);
    writing = false;
    await writer;

    // A volatile default rewrites the table without change events: status says so, resync repairs it.
    // No row of the table changes after the ALTER until the re-sync is done: the stream then has no
    // relation message with the new shape, only the DDL message (a re-sync must not wait for a row).
    await pgc.query('ALTER TABLE e2e_rs.added ADD COLUMN at timestamptz DEFAULT clock_timestamp()');
    await waitForStatus(client, 'e2e_rs_add', 'marked for re-sync', (s) => (s.resync ?? []).some((r) => r.startsWith('e2e_rs.added')), 180_000);
    const status = await cli(['status']);
    assert.match(status.stdout, /NEEDS RE-SYNC: e2e_rs\.added.*\(run: ducktail resync e2e_rs_add e2e_rs\.added\)/);
    const repaired = await cli(['resync', 'e2e_rs_add', 'e2e_rs.added', '--wait', '--timeout', '300']);
    assert.equal(repaired.code, 0, repaired.stderr);
    await pgc.query('UPDATE e2e_rs.added SET v = v + 100 WHERE id = (SELECT min(id) FROM e2e_rs.added)'); // a row under the new shape
    const [{ lsn }] = (await pgc.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows as [{ lsn: string }];
    const done = await waitForStatus(client, 'e2e_rs_add', 'caught up', (x) => {
      const p = x.checkpoint?.position;
      return p?.kind === 'pg' && parseLsn(p.ackLsn) >= parseLsn(lsn);
    }, 120_000);
    assert.deepEqual(done.resync ?? [], [], 'no table needs a re-sync any more');
    await pipelineHandle(client, 'e2e_rs_add').cancel();
    await pipelineHandle(client, 'e2e_rs_add').result();
    await worker.kill('SIGTERM');

    const expected = (await pgc.query<{ id: number; v: number; at: string }>("SELECT id, v, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS at FROM e2e_rs.added ORDER BY id")).rows;
    const copy = await onFile(file, [`SELECT id, v, strftime(timezone('UTC', "at"), '%Y-%m-%d %H:%M:%S.%f') AS "at" FROM e2e_rs.added WHERE NOT __deleted ORDER BY id`]);
    assert.deepEqual(copy, expected, 'the added table, with its rewritten column, equals the source');
  });
});
