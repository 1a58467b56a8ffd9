import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import type { PipelineSpec } from '../../src/model/pipeline-spec.js';
import { pipelineHandle } from '../../src/temporal/pipeline-contract.js';
import { deployedQueries, metricNamesIn, parseExposition, valueOf, type Sample } from '../helpers/metrics.js';
import { E2E_DB, pgE2E } from '../helpers/pg-e2e.js';
import { startPipelineWorkflow, waitForStatus } from '../helpers/pipelines.js';
import { PG_HOST, PG_PORT, PG_USER } from '../helpers/postgres.js';
import { spawnCli } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';
import { WorkerProcess } from '../helpers/worker-process.js';

const TQ = 'e2e-metrics';
const SCHEMA = 'e2e_metrics';
const ORDERS = `${SCHEMA}.orders`;
const CUSTOMERS = `${SCHEMA}.customers`;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return parseExposition(await res.text());
}

/** Each `ducktail_changes_total` series of `pipeline`, as `table op` → value. */
function changes(samples: Sample[], pipeline: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) if (s.name === 'ducktail_changes_total' && s.labels.pipeline === pipeline) out[`${s.labels.table} ${s.labels.op}`] = s.value;
  return out;
}

function minus(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}

/**
 * Issue 10, metrics: a real `ducktail worker --metrics-port` replicating a real PostgreSQL
 * pipeline serves its series and the Temporal SDK's on one endpoint, and they move by exactly
 * what was loaded; a pipeline whose destination cannot be written counts its failure by type.
 */
describe('Prometheus metrics of a worker under load (real PostgreSQL, DuckDB, Temporal, worker process)', () => {
  const h = pgE2E({
    taskQueue: TQ,
    slotPrefix: 'ducktail_e2e_metrics',
    worker: false,
    schemaSql: `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA};
      CREATE TABLE ${ORDERS} (id int PRIMARY KEY, amount int NOT NULL);
      CREATE TABLE ${CUSTOMERS} (id int PRIMARY KEY, name text);
      INSERT INTO ${ORDERS} SELECT g, g FROM generate_series(1, 300) g;
      INSERT INTO ${CUSTOMERS} SELECT g, 'c' || g FROM generate_series(1, 40) g`,
  });

  async function writeConfig(file: string, taskQueue: string, pipelines: Record<string, unknown>[]): Promise<PipelineSpec[]> {
    const source = { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: E2E_DB, tables: [`${SCHEMA}.*`] };
    const common = { source, batch: { maxRows: 200, maxWaitMs: 200, idleWaitMs: 500 }, snapshot: { chunkRows: 150 } };
    await writeFile(file, stringify({ temporal: { taskQueue }, pipelines: pipelines.map((p) => ({ ...common, ...p })) }));
    return (await loadConfig(file)).pipelines;
  }

  test('ducktail worker --metrics-port: changes, batches, durations, lag, failures and the SDK series move under load', { timeout: 180_000 }, async () => {
    const [ok, bad] = await writeConfig(path.join(h.dir, 'worker.yaml'), TQ, [
      { name: 'e2e_metrics_ok', destination: { path: 'ok.duckdb' } },
      { name: 'e2e_metrics_bad', destination: { path: 'no-such-dir/bad.duckdb' } },
    ]);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    const worker = new WorkerProcess(path.join(h.dir, 'worker.yaml'), h.server.address, ['--metrics-port', String(port), '--metrics-host', '127.0.0.1']);
    try {
      const client = h.server.env.client;
      await waitFor('the metrics endpoint', () => scrape(url), { timeoutMs: 30_000 });
      await startPipelineWorkflow(client, TQ, ok!);
      const snapshotted = await waitForStatus(client, ok!.name, 'the snapshot loaded', (s) => s.phase === 'streaming' && s.events >= 340, 90_000);

      const first = await scrape(url);
      assert.deepEqual(changes(first, ok!.name), { [`${ORDERS} snapshot`]: 300, [`${CUSTOMERS} snapshot`]: 40 });
      assert.ok(valueOf(first, 'ducktail_batches_total', { pipeline: ok!.name }) >= 3, 'snapshot chunks of 150 rows are batches');

      // Under load: a wave of known changes in several transactions.
      await h.pgc.query(`INSERT INTO ${ORDERS} SELECT g, g FROM generate_series(301, 360) g`);
      await h.pgc.query(`UPDATE ${ORDERS} SET amount = amount + 1 WHERE id <= 25`);
      await h.pgc.query(`DELETE FROM ${ORDERS} WHERE id > 350`);
      await h.pgc.query(`BEGIN; INSERT INTO ${CUSTOMERS} SELECT g, 'n' || g FROM generate_series(41, 60) g; UPDATE ${CUSTOMERS} SET name = 'x' WHERE id <= 5; COMMIT`);
      await h.pgc.query(`TRUNCATE ${CUSTOMERS}`);
      const wave = 60 + 25 + 10 + 20 + 5 + 1;
      await waitForStatus(client, ok!.name, 'the wave loaded', (s) => s.events >= snapshotted.events + wave, 60_000);

      const second = await scrape(url);
      assert.deepEqual(minus(changes(second, ok!.name), changes(first, ok!.name)), {
        [`${ORDERS} insert`]: 60,
        [`${ORDERS} update`]: 25,
        [`${ORDERS} delete`]: 10,
        [`${CUSTOMERS} insert`]: 20,
        [`${CUSTOMERS} update`]: 5,
        [`${CUSTOMERS} truncate`]: 1,
      });
      const batches = (s: Sample[]) => valueOf(s, 'ducktail_batches_total', { pipeline: ok!.name });
      assert.ok(batches(second) > batches(first), 'the wave loaded in more batches');
      const lagged = second.filter((s) => s.labels.pipeline === ok!.name && (s.name === 'ducktail_lag_bytes' || s.name === 'ducktail_lag_seconds'));
      assert.deepEqual(lagged.map((s) => s.name).sort(), ['ducktail_lag_bytes', 'ducktail_lag_seconds']);
      assert.ok(lagged.every((s) => s.value >= 0 && s.value < 1e9), JSON.stringify(lagged));
      const retained = second.filter((s) => s.name === 'ducktail_source_retained_bytes' && s.labels.pipeline === ok!.name);
      assert.equal(retained.length, 1, 'the WAL the slot keeps is reported');
      assert.ok(retained[0]!.value >= 0 && retained[0]!.value < 1e9, JSON.stringify(retained));

      // The Temporal SDK's own worker series, on the same endpoint.
      const sdk = second.filter((s) => s.name.startsWith('temporal_'));
      assert.ok(sdk.some((s) => s.name === 'temporal_worker_task_slots_available' && s.labels.task_queue === TQ), 'SDK worker series of the task queue');
      assert.ok(valueOf(second, 'temporal_activity_execution_latency_count', { activity_type: 'loadBatch' }) > 0, 'SDK activity series');
      assert.ok(valueOf(second, 'process_resident_memory_bytes') > 0, 'Node process series');
      const { dashboard } = await deployedQueries();
      const sdkNames = dashboard.flatMap((e) => metricNamesIn(e, ['temporal_']));
      assert.ok(sdkNames.length > 0, 'the dashboard shows SDK series');
      for (const name of sdkNames) {
        assert.ok(sdk.some((s) => s.name === name && s.labels.worker_type === 'ActivityWorker'), `the dashboard's ${name}{worker_type="ActivityWorker"} is served`);
      }

      // A destination the worker cannot write: the failure is counted by its type, once (it is not retried).
      await startPipelineWorkflow(client, TQ, bad!);
      const parked = await waitForStatus(client, bad!.name, 'the bad pipeline parked', (s) => s.phase === 'failed', 60_000);
      assert.equal(parked.lastError?.type, 'DestinationError');
      const third = await scrape(url);
      assert.equal(valueOf(third, 'ducktail_failures_total', { pipeline: bad!.name, type: 'DestinationError' }), 1);
      assert.equal(valueOf(third, 'ducktail_failures_total', { pipeline: ok!.name }), 0, 'the healthy pipeline had no failure');

      // Stopped, the counters agree with the workflow's own totals (no load was skipped here).
      await pipelineHandle(client, ok!.name).cancel();
      const final = (await pipelineHandle(client, ok!.name).result()) as { batches: number; events: number };
      const last = await scrape(url);
      assert.equal(batches(last), final.batches, 'one batch counted per committed load');
      assert.equal(Object.values(changes(last, ok!.name)).reduce((a, b) => a + b, 0), final.events);
      const loads = valueOf(last, 'ducktail_batch_duration_seconds_count', { pipeline: ok!.name, step: 'load' });
      const captures = valueOf(last, 'ducktail_batch_duration_seconds_count', { pipeline: ok!.name, step: 'capture' });
      assert.equal(loads, final.batches, 'every load has its duration');
      assert.ok(captures >= loads, `every loaded batch was captured (captures ${captures}, loads ${loads})`);
      assert.ok(valueOf(last, 'ducktail_batch_duration_seconds_bucket', { pipeline: ok!.name, step: 'load', le: '+Inf' }) === loads);
      await pipelineHandle(client, bad!.name).terminate();
    } finally {
      await worker.kill('SIGTERM');
    }
  });

  test('ducktail dev serves the same endpoint and prints its URL', { timeout: 120_000 }, async () => {
    const file = path.join(h.dir, 'dev.yaml');
    const [spec] = await writeConfig(file, `${TQ}-dev`, [{ name: 'e2e_metrics_dev', destination: { path: 'dev.duckdb' } }]);
    const rows = await h.pgc.query<{ n: number }>(`SELECT ((SELECT count(*) FROM ${ORDERS}) + (SELECT count(*) FROM ${CUSTOMERS}))::int AS n`);
    const port = await freePort();
    const dev = spawnCli(['--config', file, '--address', h.server.address, 'dev', '--metrics-port', String(port)]);
    let stderr = '';
    dev.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const url = await waitFor('the metrics URL', () => Promise.resolve(/^Metrics: (\S+)$/m.exec(stderr)?.[1]), { timeoutMs: 60_000 });
      assert.equal(url, `http://127.0.0.1:${port}/metrics`);
      const samples = await waitFor('the snapshot counted', async () => {
        const s = await scrape(url);
        return valueOf(s, 'ducktail_changes_total', { pipeline: spec!.name, op: 'snapshot' }) === rows.rows[0]!.n ? s : undefined;
      }, { timeoutMs: 60_000 });
      assert.ok(samples.some((s) => s.name.startsWith('temporal_')), 'the SDK series');
      await pipelineHandle(h.server.env.client, spec!.name).cancel();
    } finally {
      const exited = once(dev, 'exit');
      dev.kill('SIGINT');
      await exited;
    }
  });
});
