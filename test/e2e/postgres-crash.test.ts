import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { duckQuery } from '../helpers/duckdb.js';
import { startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { dropPgReplication, ensurePgDatabase, PG_HOST, PG_PORT, PG_USER, pgConnect } from '../helpers/postgres.js';
import { spawnCli, testServer } from '../helpers/temporal.js';

const DB = 'ducktail_e2e';
const TQ = 'e2e-crash';

/** A worker process that can be killed; `waitForLog` resolves when a debug log line matches. */
class WorkerProcess {
  private lines: string[] = [];
  private waiters: { re: RegExp; resolve: () => void }[] = [];
  readonly child: ChildProcess;

  constructor(configFile: string, address: string) {
    this.child = spawnCli(['--config', configFile, '--address', address, 'worker'], { DUCKTAIL_LOG_LEVEL: 'debug' });
    let buffer = '';
    this.child.stderr?.on('data', (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) {
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => (w.re.test(line) ? (w.resolve(), false) : true));
      }
    });
  }

  waitForLog(re: RegExp): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ re, resolve }));
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    await exited;
  }

  errors(): string[] {
    return this.lines.filter((l) => /"level":(50|60)/.test(l));
  }
}

describe('worker killed with SIGKILL mid-stream (real PostgreSQL, DuckDB, Temporal)', () => {
  let server: DevServer;
  let pgc: pg.Client;
  let dir: string;

  before(async () => {
    await ensurePgDatabase(DB);
    pgc = await pgConnect(DB);
    await dropPgReplication(pgc, 'ducktail_e2e_k');
    await pgc.query('DROP SCHEMA IF EXISTS e2e_k CASCADE; CREATE SCHEMA e2e_k');
    await pgc.query('CREATE TABLE e2e_k.items (id int PRIMARY KEY, v int NOT NULL, pad text)');
    await pgc.query(`INSERT INTO e2e_k.items SELECT g, 0, repeat('x', 100) FROM generate_series(1, 2000) g`);
    dir = await tempDir('ducktail-crash');
    server = await testServer();
  });

  after(async () => {
    await server?.stop();
    await dropPgReplication(pgc, 'ducktail_e2e_k');
    await pgc?.end();
  });

  test('destination equals source; APPEND has no duplicate or missing event', async () => {
    const source = { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB, tables: ['e2e_k.items'] };
    const common = { batch: { maxRows: 500, maxWaitMs: 100, idleWaitMs: 500 }, snapshot: { chunkRows: 400 } };
    const configFile = path.join(dir, 'ducktail.yaml');
    await writeFile(
      configFile,
      stringify({
        temporal: { taskQueue: TQ },
        pipelines: [
          { name: 'e2e_k_merge', source, destination: { path: 'merge.duckdb' }, mode: 'merge', ...common },
          { name: 'e2e_k_append', source: { ...source, slot: 'ducktail_e2e_k_append_slot' }, destination: { path: 'append.duckdb' }, mode: 'append', ...common },
        ],
      }),
    );
    const config = await loadConfig(configFile);
    const client = server.env.client;

    let worker = new WorkerProcess(configFile, server.address);
    for (const spec of config.pipelines) await startPipelineWorkflow(client, TQ, spec);
    // The slots (and their snapshots) must exist before the writer starts, so every change is streamed.
    for (const spec of config.pipelines) {
      await waitForStatus(client, spec.name, 'the pipeline prepared', (s) => s.checkpoint !== null, 90_000);
    }

    // Changes keep coming while the worker is killed: 60 transactions of 100 updates + 20 inserts + 10 deletes.
    let changes = 0;
    const writer = (async () => {
      for (let t = 0; t < 60; t++) {
        await pgc.query('BEGIN');
        await pgc.query(`UPDATE e2e_k.items SET v = v + 1 WHERE id IN (SELECT id FROM e2e_k.items ORDER BY random() LIMIT 100)`);
        await pgc.query(`INSERT INTO e2e_k.items SELECT 100000 + $1 * 20 + g, 1, 'n' FROM generate_series(1, 20) g`, [t]);
        const del = await pgc.query(`DELETE FROM e2e_k.items WHERE id IN (SELECT id FROM e2e_k.items WHERE id < 100000 ORDER BY random() LIMIT 10)`);
        await pgc.query('COMMIT');
        changes += 100 + 20 + (del.rowCount ?? 0);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    // Kill during a load, then during a capture, several times each.
    const kills: string[] = [];
    for (const phase of ['load started', 'capture started', 'load started', 'capture started', 'load started']) {
      await worker.waitForLog(new RegExp(`"msg":"${phase}"`));
      await worker.kill('SIGKILL');
      kills.push(phase);
      worker = new WorkerProcess(configFile, server.address);
    }
    await writer;

    // Let the last worker catch up: catch-up ends when both pipelines have loaded the current end of WAL.
    const target = await pgc.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    assert.ok(target.rows[0]);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const statuses = await Promise.all(
        config.pipelines.map((p) => client.workflow.getHandle(`ducktail-${p.name}`).query<{ events: number; lagBytes: number | null; phase: string }>('status')),
      );
      const total = statuses.map((s) => s.events);
      if (statuses.every((s) => s.phase === 'streaming' && s.lagBytes !== null) && total.every((n) => n >= 2000 + changes)) break;
      if (Date.now() > deadline) assert.fail(`pipelines did not catch up: ${JSON.stringify(statuses)} (changes ${changes})`);
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const p of config.pipelines) await client.workflow.getHandle(`ducktail-${p.name}`).cancel();
    for (const p of config.pipelines) await client.workflow.getHandle(`ducktail-${p.name}`).result();
    await worker.kill('SIGTERM');

    const expected = (await pgc.query<{ id: number; v: number }>('SELECT id, v FROM e2e_k.items ORDER BY id')).rows;
    const merged = await duckQuery(path.join(dir, 'merge.duckdb'), 'SELECT id, v FROM e2e_k.items WHERE NOT __deleted ORDER BY id');
    assert.equal(merged.length, expected.length, 'MERGE row count equals the source');
    assert.deepEqual(merged, expected.map((r) => ({ id: r.id, v: r.v })), 'MERGE equals the source');

    const appended = await duckQuery(
      path.join(dir, 'append.duckdb'),
      `SELECT count(*)::INT AS n, count(DISTINCT (__position, __seq))::INT AS distinct_events FROM e2e_k.items WHERE __op <> 'snapshot'`,
    );
    assert.equal(appended[0]!.n, changes, 'APPEND has exactly one row per change');
    assert.equal(appended[0]!.distinct_events, changes, 'no APPEND row is duplicated');
    assert.deepEqual(kills.length, 5);
  });
});
