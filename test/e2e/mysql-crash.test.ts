import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Connection, ResultSetHeader } from 'mysql2/promise';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import type { MysqlPosition } from '../../src/model/position.js';
import { compareMysqlPositions } from '../../src/sources/mysql/mysql-position.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { duckQuery } from '../helpers/duckdb.js';
import { binlogEnd, MY_E2E_DB, MY_HOST, MY_PORT, MY_USER, myConnect, RUN_ID, uniqueServerId } from '../helpers/mysql.js';
import { startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { testServer } from '../helpers/temporal.js';
import { WorkerProcess } from '../helpers/worker-process.js';
import { pipelineHandle, queryStatus } from '../../src/temporal/pipeline-contract.js';

const TQ = 'e2e-my-crash';
const TABLE = `k_items_${RUN_ID}`;
const ROWS = 2000;

function pick<T>(from: T[], n: number): T[] {
  const copy = [...from];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

describe('MySQL/MariaDB: worker killed with SIGKILL mid-stream (real MariaDB, DuckDB, Temporal)', () => {
  let server: DevServer;
  let my: Connection;
  let dir: string;
  let worker: WorkerProcess | undefined;

  before(async () => {
    my = await myConnect();
    await my.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await my.query(`CREATE TABLE ${TABLE} (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(200))`);
    await my.query(`INSERT INTO ${TABLE} SELECT seq, 0, REPEAT('x', 100) FROM mysql.seq_1_to_${ROWS}`);
    dir = await tempDir('ducktail-e2e-my-crash');
    server = await testServer();
  });

  after(async () => {
    await worker?.kill('SIGKILL');
    await server?.stop();
    await my?.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await my?.end();
  });

  test('destination equals source; APPEND has no duplicate or missing event', { timeout: 300_000 }, async () => {
    const source = { kind: 'mysql', host: MY_HOST, port: MY_PORT, user: MY_USER, tables: [`${MY_E2E_DB}.${TABLE}`] };
    const common = { batch: { maxRows: 500, maxWaitMs: 100, idleWaitMs: 500 }, snapshot: { chunkRows: 400 } };
    const configFile = path.join(dir, 'ducktail.yaml');
    await writeFile(
      configFile,
      stringify({
        temporal: { taskQueue: TQ },
        pipelines: [
          { name: `e2e_my_k_merge_${RUN_ID}`, source: { ...source, serverId: uniqueServerId() }, destination: { path: 'merge.duckdb' }, mode: 'merge', ...common },
          { name: `e2e_my_k_append_${RUN_ID}`, source: { ...source, serverId: uniqueServerId() }, destination: { path: 'append.duckdb' }, mode: 'append', ...common },
        ],
      }),
    );
    const config = await loadConfig(configFile);
    const client = server.env.client;

    worker = new WorkerProcess(configFile, server.address);
    for (const spec of config.pipelines) await startPipelineWorkflow(client, TQ, spec);
    // The snapshot start positions must be fixed before the writer starts, so every change is streamed.
    for (const spec of config.pipelines) {
      await waitForStatus(client, spec.name, 'the pipeline prepared', (s) => s.checkpoint !== null, 90_000);
    }

    // Changes keep coming until the worker has been killed: transactions of 50 updates + 10 inserts + 5 deletes.
    let live = Array.from({ length: ROWS }, (_, i) => i + 1);
    let changes = 0;
    let transactions = 0;
    let stopWriting = false;
    const writer = (async () => {
      for (let t = 0; !stopWriting && t < 1000; t++) {
        const updated = pick(live, 50);
        const inserted = Array.from({ length: 10 }, (_, i) => 100_000 + t * 10 + i + 1);
        const deleted = pick(live.filter((id) => !updated.includes(id)), 5);
        await my.query('BEGIN');
        const u = await my.query<ResultSetHeader>(`UPDATE ${TABLE} SET v = v + 1 WHERE id IN (?)`, [updated]);
        const i = await my.query<ResultSetHeader>(`INSERT INTO ${TABLE} (id, v, pad) VALUES ?`, [inserted.map((id) => [id, 1, 'n'])]);
        const d = await my.query<ResultSetHeader>(`DELETE FROM ${TABLE} WHERE id IN (?)`, [deleted]);
        await my.query('COMMIT');
        changes += u[0].affectedRows + i[0].affectedRows + d[0].affectedRows;
        transactions++;
        live = [...live.filter((id) => !deleted.includes(id)), ...inserted];
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    writer.catch(() => undefined); // awaited below; a failure must not end the process before that

    // Mid-stream: the snapshot is done and changes are streaming when the worker dies.
    for (const spec of config.pipelines) {
      await waitForStatus(client, spec.name, 'the snapshot done', (s) => s.phase === 'streaming' && s.checkpoint?.snapshot === undefined, 90_000);
    }
    // Kill during a load, then during a capture. Each kill costs the activity heartbeat timeout
    // (30 s) before Temporal retries the activity on the new worker.
    const kills: string[] = [];
    for (const phase of ['load started', 'capture started']) {
      await worker.waitForLog(new RegExp(`"msg":"${phase}"`));
      await worker.kill('SIGKILL');
      kills.push(phase);
      worker = new WorkerProcess(configFile, server.address);
    }
    // Streaming resumes on the new worker while the writer is still writing.
    await worker.waitForLog(/"msg":"load committed"/);
    stopWriting = true;
    await writer;
    assert.equal(changes, transactions * 65, 'every write statement changed the rows it named');

    // Caught up: both pipelines have loaded up to the end of the binlog as it was after the last write.
    const end = await binlogEnd(my);
    const target: MysqlPosition = { kind: 'mysql', file: end.file, pos: end.pos };
    const deadline = Date.now() + 150_000;
    for (;;) {
      const statuses = await Promise.all(
        config.pipelines.map((p) => queryStatus(pipelineHandle(client, p.name))),
      );
      const caughtUp = statuses.every((s) => {
        const at = s.checkpoint?.position;
        return s.phase === 'streaming' && s.checkpoint?.snapshot === undefined && at?.kind === 'mysql' && compareMysqlPositions(at, target) >= 0;
      });
      if (caughtUp) break;
      if (Date.now() > deadline) {
        assert.fail(`pipelines did not catch up to ${end.file}:${end.pos}: ${JSON.stringify(statuses.map((s) => [s.phase, s.position, s.lastError]))}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const p of config.pipelines) await pipelineHandle(client, p.name).cancel();
    for (const p of config.pipelines) await pipelineHandle(client, p.name).result();
    await worker.kill('SIGTERM');

    const [rows] = await my.query(`SELECT id, v FROM ${TABLE} ORDER BY id`);
    const expected = (rows as { id: number; v: number }[]).map((r) => ({ id: r.id, v: r.v }));
    const merged = await duckQuery(path.join(dir, 'merge.duckdb'), `SELECT id, v FROM "${MY_E2E_DB}".${TABLE} WHERE NOT __deleted ORDER BY id`);
    assert.equal(merged.length, expected.length, 'MERGE row count equals the source');
    assert.deepEqual(merged, expected, 'MERGE equals the source');
    const tombstones = await duckQuery(path.join(dir, 'merge.duckdb'), `SELECT count(*)::INT AS n FROM "${MY_E2E_DB}".${TABLE} WHERE __deleted`);
    assert.equal(tombstones[0]!.n, transactions * 5, 'every deleted key is a soft delete');

    const appended = await duckQuery(
      path.join(dir, 'append.duckdb'),
      `SELECT count(*)::INT AS n, count(DISTINCT (__position, __seq))::INT AS distinct_events,
              count(*) FILTER (WHERE __op = 'update')::INT AS updates, count(*) FILTER (WHERE __op = 'insert')::INT AS inserts,
              count(*) FILTER (WHERE __op = 'delete')::INT AS deletes
         FROM "${MY_E2E_DB}".${TABLE} WHERE __op <> 'snapshot'`,
    );
    assert.deepEqual(
      appended[0],
      { n: changes, distinct_events: changes, updates: transactions * 50, inserts: transactions * 10, deletes: transactions * 5 },
      'APPEND has exactly one row per change, none duplicated',
    );
    const snapshot = await duckQuery(
      path.join(dir, 'append.duckdb'),
      `SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids FROM "${MY_E2E_DB}".${TABLE} WHERE __op = 'snapshot'`,
    );
    assert.deepEqual(snapshot[0], { n: ROWS, ids: ROWS }, 'the snapshot copied every row once');
    assert.equal(kills.length, 2);
  });
});
