import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Connection } from 'mysql2/promise';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import type { MysqlPosition } from '../../src/model/position.js';
import { compareMysqlPositions } from '../../src/sources/mysql/mysql-position.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { pipelineHandle, queryStatus } from '../../src/temporal/pipeline-contract.js';
import type { PipelineStatus } from '../../src/workflows/pipeline-state.js';
import { startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { binlogEnd, MY_E2E_DB, MY_HOST, MY_PORT, MY_USER, myConnect, RUN_ID, uniqueServerId } from '../helpers/mysql.js';
import { runCli, testServer } from '../helpers/temporal.js';
import { WorkerProcess } from '../helpers/worker-process.js';

const TQ = 'e2e-my-resync';
const ITEMS = `rs_items_${RUN_ID}`;
const OTHER = `rs_other_${RUN_ID}`;
const T = `${MY_E2E_DB}.${ITEMS}`;
const O = `${MY_E2E_DB}.${OTHER}`;
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

describe('ducktail resync (real MariaDB, DuckDB, Temporal, worker process)', () => {
  let server: DevServer;
  let my: Connection;
  let dir: string;
  let worker: WorkerProcess | undefined;

  before(async () => {
    my = await myConnect();
    await my.query(`DROP TABLE IF EXISTS ${ITEMS}, ${OTHER}, _ducktail_watermark`);
    await my.query(`CREATE TABLE ${ITEMS} (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(100))`);
    await my.query(`CREATE TABLE ${OTHER} (a INT, b VARCHAR(20), v INT NOT NULL, PRIMARY KEY (a, b))`);
    await my.query(`INSERT INTO ${ITEMS} SELECT seq, 0, REPEAT('x', 50) FROM mysql.seq_1_to_${ROWS}`);
    await my.query(`INSERT INTO ${OTHER} SELECT seq, CONCAT('k', seq), 0 FROM mysql.seq_1_to_50`);
    dir = await tempDir('ducktail-my-resync');
    server = await testServer();
  });

  after(async () => {
    await worker?.kill('SIGKILL');
    await server?.stop();
    await my?.query(`DROP TABLE IF EXISTS ${ITEMS}, ${OTHER}, _ducktail_watermark`);
    await my?.end();
  });

  test('repairs a tampered copy while changes keep flowing, across a worker SIGKILL mid-copy; MERGE equal, APPEND audit-equal', { timeout: 600_000 }, async () => {
    const source = { kind: 'mysql', host: MY_HOST, port: MY_PORT, user: MY_USER, tables: [`${MY_E2E_DB}.${ITEMS}`, `${MY_E2E_DB}.${OTHER}`] };
    const common = { batch: { maxRows: 300, maxWaitMs: 100, idleWaitMs: 300 }, snapshot: { chunkRows: 100 } };
    const configFile = path.join(dir, 'ducktail.yaml');
    await writeFile(
      configFile,
      stringify({
        temporal: { taskQueue: TQ },
        pipelines: [
          { name: 'e2e_my_rs_merge', source: { ...source, serverId: uniqueServerId() }, destination: { path: 'merge.duckdb' }, mode: 'merge', ...common },
          { name: 'e2e_my_rs_append', source: { ...source, serverId: uniqueServerId() }, destination: { path: 'append.duckdb' }, mode: 'append', ...common },
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
      `UPDATE ${T} SET v = -7 WHERE id = 10`,
      `DELETE FROM ${T} WHERE id = 20`,
      `INSERT INTO ${T} (id, v, pad, __deleted, __op, __position) VALUES (999999, 1, 'ghost', false, 'insert', 'x:1')`,
      `UPDATE ${T} SET __deleted = true WHERE id = 30`,
    ]);
    worker = new WorkerProcess(configFile, server.address);

    // Changes keep coming on both tables, until the copy is done.
    let writing = true;
    const writer = (async () => {
      for (let t = 0; writing; t++) {
        await my.query('BEGIN');
        await my.query(`UPDATE ${ITEMS} SET v = v + 1 ORDER BY RAND() LIMIT 20`);
        await my.query(`INSERT INTO ${ITEMS} SELECT 100000 + ? * 5 + seq, 1, 'n' FROM mysql.seq_1_to_5`, [t]);
        await my.query(`DELETE FROM ${ITEMS} WHERE id > 40 ORDER BY RAND() LIMIT 3`);
        await my.query(`UPDATE ${OTHER} SET v = v + 1 WHERE a = ?`, [1 + (t % 50)]);
        await my.query('COMMIT');
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const cli = (args: string[]) => runCli(['--config', configFile, '--address', server.address, ...args]);
    const bad = await cli(['resync', 'e2e_my_rs_merge', `${T}_nope`]);
    assert.equal(bad.code, 1, 'an unknown table is refused');
    assert.match(bad.stderr, /does not replicate a table/);

    const merge = cli(['resync', 'e2e_my_rs_merge', T, '--wait', '--timeout', '300']);
    const append = cli(['resync', 'e2e_my_rs_append', T, '--wait', '--timeout', '300']);

    // Kill the worker once the merge copy has loaded a few chunks: it goes on after the last one loaded.
    let progress: PipelineStatus | undefined;
    for (;;) {
      progress = await queryStatus(pipelineHandle(client, 'e2e_my_rs_merge')).catch(() => undefined);
      if ((progress?.checkpoint?.backfill?.tables[0]?.chunks ?? 0) >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(progress?.backfillProgress ?? '', /\(resync\): [\d,]+\/~[\d,]+ rows copied in \d+ chunks/);
    const other = progress?.counts[O]?.update ?? 0;
    await worker.kill('SIGKILL');
    worker = new WorkerProcess(configFile, server.address);

    const [m, a] = await Promise.all([merge, append]);
    assert.equal(m.code, 0, `merge resync: ${m.stdout}${m.stderr}`);
    assert.equal(a.code, 0, `append resync: ${a.stdout}${a.stderr}`);
    assert.match(m.stdout, /copied again/);
    writing = false;
    await writer;

    // Wait until both pipelines have loaded everything the source has now.
    const end = await binlogEnd(my);
    const target: MysqlPosition = { kind: 'mysql', file: end.file, pos: end.pos };
    for (const spec of config.pipelines) {
      const s = await waitForStatus(client, spec.name, 'caught up', (x) => {
        const p = x.checkpoint?.position;
        return p?.kind === 'mysql' && compareMysqlPositions(p, target) >= 0;
      }, 120_000);
      assert.equal(s.backfillProgress, undefined);
      assert.equal(s.lastError, null);
      assert.ok((s.counts[O]?.update ?? 0) > other || spec.name !== 'e2e_my_rs_merge', 'the other table kept streaming during the copy');
    }
    for (const p of config.pipelines) await pipelineHandle(client, p.name).cancel();
    for (const p of config.pipelines) await pipelineHandle(client, p.name).result();
    await worker.kill('SIGTERM');

    const [expectedRows] = await my.query(`SELECT id, v FROM ${ITEMS} ORDER BY id`);
    const expected = (expectedRows as { id: number; v: number }[]).map((r) => ({ id: r.id, v: r.v }));
    const merged = await onFile(mergeFile, [`SELECT id, v FROM ${T} WHERE NOT __deleted ORDER BY id`]);
    const want = new Map(expected.map((r) => [r.id, r.v]));
    const got = new Map(merged.map((r) => [Number(r.id), Number(r.v)]));
    const wrong = [...new Set([...want.keys(), ...got.keys()])].filter((id) => want.get(id) !== got.get(id));
    const detail = wrong.slice(0, 10).map((id) => `${id}: source ${want.get(id)}, copy ${got.get(id)}`);
    assert.deepEqual(detail, [], `MERGE live rows equal the source (${wrong.length} keys differ)`);
    const ghost = await onFile(mergeFile, [`SELECT __deleted, __op FROM ${T} WHERE id = 999999`]);
    assert.deepEqual(ghost, [{ __deleted: true, __op: 'delete' }], 'the extra row ends deleted');
    const internal = await onFile(mergeFile, ["SELECT count(*)::INT AS n FROM duckdb_tables() WHERE schema_name = '_ducktail' AND starts_with(table_name, 'unseen ')"]);
    assert.deepEqual(internal, [{ n: 0 }], 'no copy state is left behind');

    // APPEND: per key, the last event (in stream order) is the source's row; deleted keys end with a delete.
    // Rows are appended in commit order.
    const events = await onFile(appendFile, [`SELECT id, v, __op, __position, __seq FROM ${T} ORDER BY rowid`]);
    const last = new Map<number, Record<string, unknown>>();
    for (const e of events) last.set(Number(e.id), e);
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

  test('a table added to the running pipeline is copied while the others stream', { timeout: 600_000 }, async () => {
    const ADDED = `rs_added_${RUN_ID}`;
    const A = `${MY_E2E_DB}.${ADDED}`;
    await my.query(`DROP TABLE IF EXISTS ${ADDED}`);
    await my.query(`CREATE TABLE ${ADDED} (id INT PRIMARY KEY, v INT NOT NULL)`);
    await my.query(`INSERT INTO ${ADDED} SELECT seq, 0 FROM mysql.seq_1_to_800`);
    const source = { kind: 'mysql', host: MY_HOST, port: MY_PORT, user: MY_USER, serverId: uniqueServerId() };
    const pipeline = (tables: string[]) => ({
      temporal: { taskQueue: TQ },
      pipelines: [{ name: 'e2e_my_rs_add', source: { ...source, tables }, destination: { path: 'add.duckdb' }, mode: 'merge', batch: { maxRows: 300, maxWaitMs: 100, idleWaitMs: 300 }, snapshot: { chunkRows: 100 } }],
    });
    const configFile = path.join(dir, 'add.yaml');
    const file = path.join(dir, 'add.duckdb');
    await writeFile(configFile, stringify(pipeline([O])));
    const client = server.env.client;
    const cli = (args: string[]) => runCli(['--config', configFile, '--address', server.address, ...args]);
    worker = new WorkerProcess(configFile, server.address);
    const started = await cli(['start']);
    assert.equal(started.code, 0, started.stderr);
    await waitForStatus(client, 'e2e_my_rs_add', 'streaming', (s) => s.phase === 'streaming', 90_000);

    let writing = true;
    const writer = (async () => {
      for (let t = 0; writing; t++) {
        await my.query('BEGIN');
        await my.query(`UPDATE ${ADDED} SET v = v + 1 ORDER BY RAND() LIMIT 10`);
        await my.query(`INSERT INTO ${ADDED} VALUES (?, 1)`, [10_000 + t]);
        await my.query(`DELETE FROM ${ADDED} ORDER BY RAND() LIMIT 1`);
        await my.query(`UPDATE ${OTHER} SET v = v + 1 WHERE a = ?`, [1 + (t % 50)]);
        await my.query('COMMIT');
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    await writeFile(configFile, stringify(pipeline([O, A])));
    const again = await cli(['start']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already running .*spec updated:\n {2}tables added: /);
    const before = (await queryStatus(pipelineHandle(client, 'e2e_my_rs_add'))).counts[O]?.update ?? 0;
    const copied = await waitForStatus(client, 'e2e_my_rs_add', 'the added table copied', (s) => (s.backfillRequests ?? []).length === 0 && s.backfillProgress === undefined && (s.counts[A]?.snapshot ?? 0) > 0, 180_000);
    assert.ok((copied.counts[O]?.update ?? 0) > before, 'the other table kept streaming during the copy');
    writing = false;
    await writer;
    const end = await binlogEnd(my);
    const target: MysqlPosition = { kind: 'mysql', file: end.file, pos: end.pos };
    await waitForStatus(client, 'e2e_my_rs_add', 'caught up', (x) => {
      const p = x.checkpoint?.position;
      return p?.kind === 'mysql' && compareMysqlPositions(p, target) >= 0;
    }, 120_000);
    await pipelineHandle(client, 'e2e_my_rs_add').cancel();
    await pipelineHandle(client, 'e2e_my_rs_add').result();
    await worker.kill('SIGTERM');

    const [rows] = await my.query(`SELECT id, v FROM ${ADDED} ORDER BY id`);
    const expected = (rows as { id: number; v: number }[]).map((r) => ({ id: r.id, v: r.v }));
    const copy = await onFile(file, [`SELECT id, v FROM ${A} WHERE NOT __deleted ORDER BY id`]);
    assert.deepEqual(copy, expected, 'the added table equals the source');
    await my.query(`DROP TABLE IF EXISTS ${ADDED}`);
  });
});
