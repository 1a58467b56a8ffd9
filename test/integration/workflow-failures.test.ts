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
import { BadValueError, DestinationBusyError, PrivilegeError } from '../../src/errors.js';
import type { BatchSummary } from '../../src/model/batch.js';
import type { Checkpoint } from '../../src/model/checkpoint.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { workflowBundle } from '../../src/temporal/workflow-bundle.js';
import { pgSpec, pipelineStatus, startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { PG_HOST, PG_PORT, PG_USER } from '../helpers/postgres.js';
import { runCli, testServer } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';
import { pauseSignal, pipelineHandle, resumeSignal } from '../../src/temporal/pipeline-contract.js';

const TQ = `wf-failures-${process.pid}`;
/** Attempts before an unclassified error parks the pipeline (production: 6, ~30 s). */
const ATTEMPTS = 3;

/** What an activity does on a given attempt: throw, or return (then the activity succeeds). */
type Behaviour = (attempt: number) => void;

interface Behaviours {
  prepare?: Behaviour;
  load?: Behaviour;
  /** Captures after the first batch hang this long without a heartbeat, deaf to cancellation (a worker that died mid-capture). */
  hangCaptureMs?: number;
}

const start: Checkpoint = { position: { kind: 'pg', lsn: '0/10', ackLsn: '0/10' }, batchId: '' };
const after1: Checkpoint = { position: { kind: 'pg', lsn: '0/20', ackLsn: '0/20' }, batchId: 'b1' };

/** What each fake pipeline has been asked for. */
interface Calls {
  prepares: number;
  captures: number;
  /** Load attempts, over all executions. */
  loads: number;
  /** The highest load attempt seen. */
  loadAttempts: number;
}

/**
 * Activities that stand in for a source and DuckDB: one batch is captured, then nothing; prepare
 * and load do what the test's behaviours say (throw, or succeed). Wrapped in `asActivity` like
 * the real ones, so the repeated-failure backstop applies.
 */
function mockActivities(behaviour: Map<string, Behaviours>, loaded: Set<string>, calls: Map<string, Calls>): PipelineActivities {
  const batch = (name: string): BatchSummary => ({
    batchId: 'b1', spoolDir: `/nonexistent/${name}`, counts: { 's.t': { insert: 1 } }, events: 1, bytes: 10, lastCommitTs: null, schemaChanges: [],
  });
  const called = (name: string): Calls => {
    let c = calls.get(name);
    if (c === undefined) calls.set(name, (c = { prepares: 0, captures: 0, loads: 0, loadAttempts: 0 }));
    return c;
  };
  return {
    interruptCapture: () => Promise.resolve(false),
    preparePipeline: ({ spec }) =>
      asActivity(() => {
        called(spec.name).prepares++;
        behaviour.get(spec.name)?.prepare?.(Context.current().info.attempt);
        return Promise.resolve({ checkpoint: start, warnings: [], tables: ['s.t'] });
      }),
    captureBatch: ({ spec }) =>
      asActivity(async () => {
        const c = called(spec.name);
        c.captures++;
        const hang = behaviour.get(spec.name)?.hangCaptureMs;
        if (hang !== undefined && loaded.has(spec.name) && c.captures === 2) await new Promise((r) => setTimeout(r, hang));
        if (loaded.has(spec.name)) {
          await new Promise((r) => setTimeout(r, 200));
          return { batch: null, checkpoint: after1, reachedTarget: false, position: '0/20', lagBytes: 0 };
        }
        return { batch: batch(spec.name), checkpoint: start, reachedTarget: false, position: '0/10', lagBytes: 0 };
      }),
    loadBatch: ({ spec }) =>
      asActivity(() => {
        const { attempt } = Context.current().info;
        const c = called(spec.name);
        c.loads++;
        c.loadAttempts = Math.max(c.loadAttempts, attempt);
        behaviour.get(spec.name)?.load?.(attempt);
        loaded.add(spec.name);
        return Promise.resolve({ checkpoint: after1, skipped: false, counts: { 's.t': { insert: 1 } }, position: '0/20' });
      }, { repeatedFailureAttempts: ATTEMPTS }),
    sourcePosition: () => asActivity(() => Promise.resolve(start.position!)),
    observeSource: () => Promise.resolve({ retention: null }),
  };
}

// The failures below are on purpose: keep the SDK's per-attempt warnings out of the test output.
Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('pipeline workflow: failures, parking, resume and stop (mocked activities, real Temporal dev server)', () => {
  let server: DevServer;
  let worker: Worker;
  let running: Promise<void>;
  let dir: string;
  const behaviour = new Map<string, Behaviours>();
  const loaded = new Set<string>();
  const calls = new Map<string, Calls>();

  before(async () => {
    server = await testServer();
    dir = await tempDir('ducktail-wf-failures');
    worker = await Worker.create({
      connection: server.env.nativeConnection,
      namespace: 'default',
      taskQueue: TQ,
      workflowBundle: await workflowBundle(),
      activities: mockActivities(behaviour, loaded, calls),
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

  test('a pause while the capture runs on a worker that died: the interrupted capture times out and the pipeline pauses, it does not fail', { timeout: 60_000 }, async () => {
    behaviour.set('wf_deadcap', { hangCaptureMs: 25_000 });
    await startPipelineWorkflow(client(), TQ, spec('wf_deadcap'));
    const handle = pipelineHandle(client(), 'wf_deadcap');
    await waitFor('the second capture runs', () => Promise.resolve((calls.get('wf_deadcap')?.captures ?? 0) >= 2 ? true : undefined), { timeoutMs: 20_000 });
    await handle.signal(pauseSignal);
    // The capture neither heartbeats nor hears the cancellation: it ends by the 10 s heartbeat timeout.
    await waitForStatus(client(), 'wf_deadcap', 'paused', (s) => s.phase === 'paused', 30_000);
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    await handle.signal(resumeSignal);
    await waitForStatus(client(), 'wf_deadcap', 'streaming again', (s) => s.phase === 'streaming' && s.lastError === null, 20_000);
    await handle.cancel();
    assert.equal((await handle.result()).phase, 'stopped');
  });

  test('a non-retryable failure parks the pipeline in failed with the fix; resume retries and it continues', async () => {
    let fixed = false;
    behaviour.set('wf_park', {
      load: () => {
        if (!fixed) throw new BadValueError('loading s.t: value out of range', 'fix the value at the source');
      },
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

  test('resume without a fix retries once and parks again (no retry loop); resume after the fix continues', { timeout: 60_000 }, async () => {
    let fixed = false;
    behaviour.set('wf_repark', {
      load: () => {
        if (!fixed) throw new BadValueError('loading s.t: value out of range', 'fix the value at the source');
      },
    });
    await startPipelineWorkflow(client(), TQ, spec('wf_repark'));
    const handle = pipelineHandle(client(), 'wf_repark');
    const loads = () => calls.get('wf_repark')?.loads ?? 0;
    const first = await waitForStatus(client(), 'wf_repark', 'parked', (s) => s.phase === 'failed');
    assert.equal(loads(), 1);

    await handle.signal(resumeSignal);
    const again = await waitForStatus(client(), 'wf_repark', 'parked again', (s) => s.phase === 'failed' && s.lastError?.at !== first.lastError?.at);
    assert.equal(again.lastError?.type, 'BadValueError');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(loads(), 2, 'one retry per resume');
    assert.equal((await pipelineStatus(client(), 'wf_repark')).phase, 'failed');

    fixed = true;
    await handle.signal(resumeSignal);
    const resumed = await waitForStatus(client(), 'wf_repark', 'loaded after the fix', (s) => s.batches === 1);
    assert.equal(resumed.lastError, null);
    assert.equal(loads(), 3);
    await handle.cancel();
    assert.equal((await handle.result()).phase, 'stopped');
  });

  test('an unclassified error that repeats shows in status at once, then parks as RepeatedFailure; stop then completes', async () => {
    const conflict = 'TransactionContext Error: Failed to commit: Attempting to modify table t but another transaction has altered this table';
    behaviour.set('wf_repeat', {
      load: () => {
        throw new Error(conflict);
      },
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
    behaviour.set('wf_busy', {
      load: () => {
        throw new DestinationBusyError('DuckDB file /x/busy.duckdb is open in another process', 'close the other program');
      },
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
  test('a non-retryable failure while preparing parks before any capture, without retrying; resume prepares again and it streams', { timeout: 60_000 }, async () => {
    let fixed = false;
    behaviour.set('wf_prepare', {
      prepare: () => {
        if (!fixed) throw new PrivilegeError('user ducktail may not read the replication stream', 'ALTER ROLE ducktail REPLICATION');
      },
    });
    await startPipelineWorkflow(client(), TQ, spec('wf_prepare'));
    const failed = await waitForStatus(client(), 'wf_prepare', 'parked in failed', (s) => s.phase === 'failed');
    assert.equal(failed.lastError?.type, 'PrivilegeError');
    assert.match(failed.lastError?.message ?? '', /may not read the replication stream[\s\S]*fix: ALTER ROLE ducktail REPLICATION/);
    assert.equal(failed.checkpoint, null);
    assert.equal(failed.step, null, 'no step is in progress while parked');
    await new Promise((r) => setTimeout(r, 1500));
    const stillFailed = await pipelineStatus(client(), 'wf_prepare');
    assert.equal(stillFailed.phase, 'failed', 'parked until resume');
    assert.equal(calls.get('wf_prepare')?.prepares, 1, 'a non-retryable failure is not retried');
    assert.equal(calls.get('wf_prepare')?.captures, 0, 'nothing is captured without a prepared checkpoint');

    fixed = true;
    await pipelineHandle(client(), 'wf_prepare').signal(resumeSignal);
    const streaming = await waitForStatus(client(), 'wf_prepare', 'loaded after resume', (s) => s.batches === 1);
    assert.equal(calls.get('wf_prepare')?.prepares, 2);
    assert.equal(streaming.phase, 'streaming');
    assert.equal(streaming.lastError, null);
    assert.deepEqual(streaming.checkpoint, after1);

    await pipelineHandle(client(), 'wf_prepare').cancel();
    assert.equal((await pipelineHandle(client(), 'wf_prepare').result()).phase, 'stopped');
  });

  test('a Temporal cancel while a step keeps failing with an unclassified error does not cancel the step: it ends as stopped once the step parks, keeping the error', { timeout: 60_000 }, async () => {
    behaviour.set('wf_cancel_repeat', {
      load: () => {
        throw new Error('IO Error: could not write file /x/t.duckdb.wal: disk I/O error');
      },
    });
    await startPipelineWorkflow(client(), TQ, spec('wf_cancel_repeat'));
    const handle = pipelineHandle(client(), 'wf_cancel_repeat');
    await waitFor('the load retried', () => Promise.resolve((calls.get('wf_cancel_repeat')?.loadAttempts ?? 0) >= 2 ? true : undefined));
    assert.equal((await pipelineStatus(client(), 'wf_cancel_repeat')).phase, 'streaming', 'cancelled while the step retries, before it parks');
    const cancelledAt = Date.now();
    await handle.cancel();
    const result = await handle.result();
    assert.ok(Date.now() - cancelledAt < 15_000, `ended within the backstop's attempts (${Date.now() - cancelledAt} ms)`);
    assert.equal(result.phase, 'stopped');
    assert.equal(result.lastError?.type, 'RepeatedFailure', 'the error that ended the step stays in the final status');
    assert.match(result.lastError?.message ?? '', /disk I\/O error/);
    assert.equal(result.batches, 0);
    assert.equal(calls.get('wf_cancel_repeat')?.loadAttempts, ATTEMPTS, 'the step kept its retries after the cancel, up to the backstop');
    assert.equal(calls.get('wf_cancel_repeat')?.captures, 1, 'nothing is captured after the cancel');
    assert.equal((await handle.describe()).status.name, 'COMPLETED', 'a graceful stop completes with the status; it is not CANCELED');
  });

  test('a Temporal cancel while a step fails transiently leaves the workflow running while it fails; once the step succeeds its batch counts and it stops without capturing again', { timeout: 60_000 }, async () => {
    let clear = false;
    behaviour.set('wf_cancel_busy', {
      load: () => {
        if (!clear) throw new DestinationBusyError('DuckDB file /x/busy.duckdb is open in another process', 'close the other program');
      },
    });
    await startPipelineWorkflow(client(), TQ, spec('wf_cancel_busy'));
    const handle = pipelineHandle(client(), 'wf_cancel_busy');
    const attempts = () => calls.get('wf_cancel_busy')?.loadAttempts ?? 0;
    await waitFor('the load retried', () => Promise.resolve(attempts() >= 2 ? true : undefined));
    await handle.cancel();
    const atCancel = attempts();
    await waitFor('a retry after the cancel', () => Promise.resolve(attempts() > atCancel ? true : undefined));
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    const waiting = await pipelineStatus(client(), 'wf_cancel_busy');
    assert.equal(waiting.phase, 'streaming');
    assert.equal(waiting.step?.activity, 'loadBatch');
    assert.equal(waiting.lastError, null, 'a transient failure never reaches the workflow');

    clear = true;
    const result = await handle.result();
    assert.equal(result.phase, 'stopped');
    assert.equal(result.batches, 1, 'the batch in flight at the cancel is loaded and counted');
    assert.deepEqual(result.checkpoint, after1);
    assert.equal(result.lastError, null);
    assert.equal(calls.get('wf_cancel_busy')?.captures, 1, 'nothing is captured after the cancel');
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
  });
});
