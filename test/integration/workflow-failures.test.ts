import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { stringify } from 'yaml';
import type { PipelineActivities } from '../../src/activities/activity-types.js';
import { asActivity } from '../../src/activities/to-failure.js';
import { readStatus } from '../../src/cli/status.js';
import { stopPipeline } from '../../src/cli/stop.js';
import { BadValueError, DestinationBusyError } from '../../src/errors.js';
import type { BatchSummary } from '../../src/model/batch.js';
import type { Checkpoint } from '../../src/model/checkpoint.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { workflowBundle } from '../../src/temporal/workflow-bundle.js';
import { pgSpec, startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { PG_HOST, PG_PORT, PG_USER } from '../helpers/postgres.js';
import { runCli, testServer } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';
import { pipelineHandle, resumeSignal } from '../../src/temporal/pipeline-contract.js';

const TQ = `wf-failures-${process.pid}`;
/** Attempts before an unclassified error parks the pipeline (production: 6, ~30 s). */
const ATTEMPTS = 3;

type LoadBehaviour = (attempt: number) => void;

const start: Checkpoint = { position: { kind: 'pg', lsn: '0/10', ackLsn: '0/10' }, batchId: '' };
const after1: Checkpoint = { position: { kind: 'pg', lsn: '0/20', ackLsn: '0/20' }, batchId: 'b1' };

/**
 * Activities that stand in for a source and DuckDB: one batch is captured, then nothing; the
 * load does what the test's behaviour says (throw, or succeed). Wrapped in `asActivity` like the
 * real ones, so the repeated-failure backstop applies.
 */
function mockActivities(behaviour: Map<string, LoadBehaviour>, loaded: Set<string>): PipelineActivities {
  const batch = (name: string): BatchSummary => ({
    batchId: 'b1', spoolDir: `/nonexistent/${name}`, counts: { 's.t': { insert: 1 } }, events: 1, bytes: 10, lastCommitTs: null, schemaChanges: [],
  });
  return {
    preparePipeline: () => asActivity(() => Promise.resolve({ checkpoint: start, warnings: [], tables: ['s.t'] })),
    captureBatch: ({ spec }) =>
      asActivity(async () => {
        if (loaded.has(spec.name)) {
          await new Promise((r) => setTimeout(r, 200));
          return { batch: null, checkpoint: after1, reachedTarget: false, position: '0/20', lagBytes: 0 };
        }
        return { batch: batch(spec.name), checkpoint: start, reachedTarget: false, position: '0/10', lagBytes: 0 };
      }),
    loadBatch: ({ spec }) =>
      asActivity(() => {
        behaviour.get(spec.name)?.(Context.current().info.attempt);
        loaded.add(spec.name);
        return Promise.resolve({ checkpoint: after1, skipped: false, counts: { 's.t': { insert: 1 } }, position: '0/20' });
      }, { repeatedFailureAttempts: ATTEMPTS }),
    sourcePosition: () => asActivity(() => Promise.resolve(start.position!)),
  };
}

// The failures below are on purpose: keep the SDK's per-attempt warnings out of the test output.
Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('pipeline workflow: failures, parking, resume and stop (mocked activities, real Temporal dev server)', () => {
  let server: DevServer;
  let worker: Worker;
  let running: Promise<void>;
  let dir: string;
  const behaviour = new Map<string, LoadBehaviour>();
  const loaded = new Set<string>();

  before(async () => {
    server = await testServer();
    dir = await tempDir('ducktail-wf-failures');
    worker = await Worker.create({
      connection: server.env.nativeConnection,
      namespace: 'default',
      taskQueue: TQ,
      workflowBundle: await workflowBundle(),
      activities: mockActivities(behaviour, loaded),
    });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await server?.stop();
  });

  const spec = (name: string) => pgSpec(name, 'unused', ['s.t'], path.join(dir, `${name}.duckdb`));
  const client = () => server.env.client;

  test('a non-retryable failure parks the pipeline in failed with the fix; resume retries and it continues', async () => {
    let fixed = false;
    behaviour.set('wf_park', () => {
      if (!fixed) throw new BadValueError('loading s.t: value out of range', 'fix the value at the source');
    });
    await startPipelineWorkflow(client(), TQ, spec('wf_park'));
    const failed = await waitForStatus(client(), 'wf_park', 'parked in failed', (s) => s.phase === 'failed');
    assert.equal(failed.lastError?.type, 'BadValueError');
    assert.match(failed.lastError?.message ?? '', /value out of range[\s\S]*fix: fix the value at the source/);
    assert.equal(failed.batches, 0);

    fixed = true;
    await pipelineHandle(client(), 'wf_park').signal(resumeSignal);
    const resumed = await waitForStatus(client(), 'wf_park', 'loaded after resume', (s) => s.batches === 1);
    assert.equal(resumed.lastError, null);
    assert.notEqual(resumed.phase, 'failed');

    await pipelineHandle(client(), 'wf_park').cancel();
    const result = (await pipelineHandle(client(), 'wf_park').result());
    assert.equal(result.phase, 'stopped');
  });

  test('an unclassified error that repeats shows in status at once, then parks as RepeatedFailure; stop then completes', async () => {
    const conflict = 'TransactionContext Error: Failed to commit: Attempting to modify table t but another transaction has altered this table';
    behaviour.set('wf_repeat', () => {
      throw new Error(conflict);
    });
    await startPipelineWorkflow(client(), TQ, spec('wf_repeat'));
    // While Temporal retries, the workflow knows nothing: the pending activity shows it.
    const row = await waitFor('retrying shown in status', async () => {
      const r = await readStatus(client(), 'wf_repeat');
      return r.retrying !== null ? r : undefined;
    });
    assert.equal(row.status?.phase, 'streaming');
    assert.equal(row.status?.lastError, null, 'the workflow itself has not seen the failure');
    assert.equal(row.retrying?.activity, 'loadBatch');
    assert.ok((row.retrying?.attempt ?? 0) >= 2);
    assert.equal(row.retrying?.failures, (row.retrying?.attempt ?? 0) - 1);
    assert.match(row.retrying?.error ?? '', /another transaction has altered this table/);
    const since = Date.parse(row.retrying?.since ?? '');
    assert.ok(since <= Date.parse(row.retrying?.nextRetryAt ?? row.retrying?.lastAttemptAt ?? ''), 'since: when the step began, before the latest attempt');
    assert.equal(row.status?.step?.activity, 'loadBatch');
    assert.equal(row.status?.step?.since, row.retrying?.since);

    const parked = await waitForStatus(client(), 'wf_repeat', 'parked as RepeatedFailure', (s) => s.phase === 'failed');
    assert.equal(parked.lastError?.type, 'RepeatedFailure');
    assert.match(parked.lastError?.message ?? '', new RegExp(`loadBatch of pipeline wf_repeat failed ${ATTEMPTS} attempts in a row`));
    assert.match(parked.lastError?.message ?? '', /another transaction has altered this table/);
    assert.match(parked.lastError?.message ?? '', /fix: fix the cause, then `ducktail resume wf_repeat`/);
    const afterPark = await readStatus(client(), 'wf_repeat');
    assert.equal(afterPark.retrying, null, 'nothing is retrying once parked');

    const said: string[] = [];
    const outcome = await stopPipeline(client(), 'wf_repeat', { wait: true, timeoutMs: 10_000, force: false, say: (l) => said.push(l) });
    assert.equal(outcome, 'stopped');
    const result = (await pipelineHandle(client(), 'wf_repeat').result());
    assert.equal(result.phase, 'stopped');
  });

  test('stop while a step keeps failing transiently says what it waits for, gives up with --force as the way out; --force terminates', async () => {
    behaviour.set('wf_busy', () => {
      throw new DestinationBusyError('DuckDB file /x/busy.duckdb is open in another process', 'close the other program');
    });
    await startPipelineWorkflow(client(), TQ, spec('wf_busy'));
    await waitFor('retrying', async () => ((await readStatus(client(), 'wf_busy')).retrying !== null ? true : undefined));

    const configFile = path.join(dir, 'busy.yaml');
    await writeFile(configFile, stringify({
      temporal: { taskQueue: TQ },
      pipelines: [{ name: 'wf_busy', source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: 'unused', tables: ['s.t'] }, destination: { path: 'busy.duckdb' } }],
    }));
    const cli = (...args: string[]) => runCli(['--config', configFile, '--address', server.address, ...args]);

    const status = await cli('status', '--json');
    assert.equal(status.code, 0, status.stderr);
    const [json] = JSON.parse(status.stdout) as { retrying: { activity: string; errorType: string; error: string } | null }[];
    assert.equal(json?.retrying?.activity, 'loadBatch');
    assert.equal(json?.retrying?.errorType, 'DestinationBusyError');
    const text = await cli('status');
    assert.match(text.stdout, /RETRYING: loadBatch failed \d+ times? since .*DestinationBusyError: DuckDB file \/x\/busy\.duckdb is open in another process/);

    const started = Date.now();
    const stop = await cli('stop', 'wf_busy', '--timeout', '4');
    assert.equal(stop.code, 1, stop.stdout + stop.stderr);
    assert.ok(Date.now() - started < 20_000, 'gave up after the timeout');
    assert.match(stop.stderr, /wf_busy: stopping after the current step; waiting for the current batch: loadBatch failed \d+ times?/);
    assert.match(stop.stderr, /did not stop within 4 s: still waiting for the current batch: loadBatch/);
    assert.match(stop.stderr, /ducktail stop --force wf_busy/);
    assert.match(stop.stderr, /checkpoint lives in DuckDB/);

    const force = await cli('stop', 'wf_busy', '--force');
    assert.equal(force.code, 0, force.stderr);
    assert.match(force.stdout, /wf_busy: terminated \(nothing is lost: the checkpoint lives in DuckDB/);
    const description = await pipelineHandle(client(), 'wf_busy').describe();
    assert.equal(description.status.name, 'TERMINATED');
    const again = await cli('stop', 'wf_busy');
    assert.equal(again.code, 0);
    assert.match(again.stdout, /wf_busy: not running/);
  });
});
