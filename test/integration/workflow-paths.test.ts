import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { PipelineActivities } from '../../src/activities/activity-types.js';
import { asActivity } from '../../src/activities/to-failure.js';
import { BadValueError, StaleBatchError } from '../../src/errors.js';
import type { BatchSummary } from '../../src/model/batch.js';
import type { Checkpoint } from '../../src/model/checkpoint.js';
import type { Position } from '../../src/model/position.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { workflowBundle } from '../../src/temporal/workflow-bundle.js';
import { pgSpec, startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { testServer } from '../helpers/temporal.js';
import { pipelineHandle, resumeSignal } from '../../src/temporal/pipeline-contract.js';

const TQ = `wf-paths-${process.pid}`;
/** Batches each fake source has to give. */
const BATCHES = 5;

/** Position n of the fake source (n batches in). */
function pos(n: number): Position {
  const lsn = `0/${((n + 1) * 16).toString(16).toUpperCase()}`;
  return { kind: 'pg', lsn, ackLsn: lsn };
}

function indexOf(p: Position | null | undefined): number {
  if (p === null || p === undefined || p.kind !== 'pg') return -1;
  return parseInt(p.lsn.split('/')[1]!, 16) / 16 - 1;
}

interface Script {
  /** The stored checkpoint every capture started from, as batch indexes. */
  captures: number[];
  loads: string[];
  /** Batch ids whose first load is refused as stale (another worker loaded it, say). */
  staleOnce: Set<string>;
  /** Batch indexes whose first capture is refused as stale (its spool went missing, say). */
  staleCaptureOnce: Set<number>;
  /** Batch ids whose loads fail with a bad value (non-retryable) until taken out. */
  refuse: Set<string>;
  /** How often the source position was asked for (catch-up targets). */
  positionReads: number;
  prepares: number;
  /** The checkpoint stored in the fake DuckDB, written by loads. */
  stored: Checkpoint;
}

function newScript(script: Partial<Script> = {}): Script {
  return {
    captures: [], loads: [], staleOnce: new Set(), staleCaptureOnce: new Set(), refuse: new Set(), positionReads: 0, prepares: 0,
    stored: { position: pos(0), batchId: '' }, ...script,
  };
}

/**
 * Activities that stand in for a source with `BATCHES` batches of 10 events and for DuckDB,
 * recording what the workflow asked of them. Wrapped in `asActivity` like the real ones.
 */
function fakeActivities(scripts: Map<string, Script>): PipelineActivities {
  const of = (name: string): Script => {
    let s = scripts.get(name);
    if (s === undefined) scripts.set(name, (s = newScript()));
    return s;
  };
  return {
    interruptCapture: () => Promise.resolve(false),
    preparePipeline: ({ spec }) =>
      asActivity(() => {
        const s = of(spec.name);
        s.prepares++;
        return Promise.resolve({ checkpoint: s.stored, warnings: [], tables: ['s.t'] });
      }),
    observeSource: () => Promise.resolve({ retention: null }),
    sourcePosition: ({ spec }) =>
      asActivity(() => {
        of(spec.name).positionReads++;
        return Promise.resolve(pos(BATCHES));
      }),
    captureBatch: ({ spec, until }) =>
      asActivity(async () => {
        const s = of(spec.name);
        const at = s.stored;
        const n = indexOf(at.position);
        s.captures.push(n);
        if (s.staleCaptureOnce.delete(n)) {
          throw new StaleBatchError(`the checkpoint moved while batch ${n + 1} was captured`, 'capture again from the checkpoint');
        }
        if (until !== undefined && until !== null && n >= indexOf(until)) {
          return { batch: null, checkpoint: at, reachedTarget: true, position: at.position?.kind === 'pg' ? at.position.lsn : null, lagBytes: 0 };
        }
        if (n >= BATCHES) {
          await new Promise((r) => setTimeout(r, 100));
          return { batch: null, checkpoint: at, reachedTarget: false, position: null, lagBytes: 0 };
        }
        const batch: BatchSummary = {
          batchId: `b${n + 1}`, spoolDir: '/nonexistent',
          counts: { 's.t': { insert: 10 } }, events: 10, bytes: 100, lastCommitTs: null, schemaChanges: [],
        };
        return { batch, checkpoint: at, reachedTarget: false, position: null, lagBytes: 0 };
      }),
    loadBatch: ({ spec, batch }) =>
      asActivity(() => {
        const s = of(spec.name);
        if (s.staleOnce.delete(batch.batchId)) {
          throw new StaleBatchError(`batch ${batch.batchId} does not start at the stored checkpoint`, 'capture again from the checkpoint');
        }
        if (s.refuse.has(batch.batchId)) throw new BadValueError(`loading ${batch.batchId}: value out of range`, 'fix the value at the source');
        s.loads.push(batch.batchId);
        s.stored = { position: pos(Number(batch.batchId.slice(1))), batchId: batch.batchId };
        return Promise.resolve({ checkpoint: s.stored, skipped: false, counts: batch.counts, position: null });
      }),
  };
}

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('pipeline workflow: stale batches, catch-up and continue-as-new (mocked activities, real Temporal dev server)', () => {
  let server: DevServer;
  let worker: Worker;
  let running: Promise<void>;
  let dir: string;
  const scripts = new Map<string, Script>();

  before(async () => {
    server = await testServer();
    dir = await tempDir('ducktail-wf-paths');
    worker = await Worker.create({
      connection: server.env.nativeConnection,
      namespace: 'default',
      taskQueue: TQ,
      workflowBundle: await workflowBundle(),
      activities: fakeActivities(scripts),
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

  test('a stale batch is captured again from the checkpoint: not counted, not parked, nothing skipped', { timeout: 60_000 }, async () => {
    scripts.set('wf_stale', newScript({ staleOnce: new Set(['b2']) }));
    await startPipelineWorkflow(client(), TQ, spec('wf_stale'));
    const status = await waitForStatus(client(), 'wf_stale', 'every batch loaded', (s) => s.batches === BATCHES);
    const s = scripts.get('wf_stale')!;
    assert.deepEqual(s.loads, ['b1', 'b2', 'b3', 'b4', 'b5']);
    assert.deepEqual(s.captures.slice(0, 3), [0, 1, 1], 'b2 is captured again from where b1 left the checkpoint');
    assert.equal(status.events, BATCHES * 10);
    assert.equal(status.lastError, null);
    assert.notEqual(status.phase, 'failed');
    await pipelineHandle(client(), 'wf_stale').cancel();
    assert.equal(((await pipelineHandle(client(), 'wf_stale').result())).phase, 'stopped');
  });

  test('a capture refused as stale is captured again from the checkpoint, not parked', { timeout: 60_000 }, async () => {
    scripts.set('wf_stale_capture', newScript({ staleCaptureOnce: new Set([2]) }));
    await startPipelineWorkflow(client(), TQ, spec('wf_stale_capture'));
    const status = await waitForStatus(client(), 'wf_stale_capture', 'every batch loaded', (s) => s.batches === BATCHES);
    const s = scripts.get('wf_stale_capture')!;
    assert.deepEqual(s.captures.slice(0, 4), [0, 1, 2, 2]);
    assert.deepEqual(s.loads, ['b1', 'b2', 'b3', 'b4', 'b5']);
    assert.equal(status.lastError, null);
    await pipelineHandle(client(), 'wf_stale_capture').cancel();
    assert.equal((await pipelineHandle(client(), 'wf_stale_capture').result()).phase, 'stopped');
  });

  test('a catch-up run loads up to the source position at its start, then completes as caught-up', { timeout: 60_000 }, async () => {
    await startPipelineWorkflow(client(), TQ, spec('wf_catch_up'), { catchUp: true });
    const result = (await pipelineHandle(client(), 'wf_catch_up').result());
    assert.equal(result.phase, 'caught-up');
    assert.equal(result.batches, BATCHES);
    assert.deepEqual(scripts.get('wf_catch_up')!.loads, ['b1', 'b2', 'b3', 'b4', 'b5']);
    assert.equal(indexOf(result.checkpoint?.position), BATCHES);
  });

  test('a catch-up run parks on a failing load, keeps its target, and completes as caught-up after resume', { timeout: 60_000 }, async () => {
    scripts.set('wf_catch_up_park', newScript({ refuse: new Set(['b3']) }));
    await startPipelineWorkflow(client(), TQ, spec('wf_catch_up_park'), { catchUp: true });
    const handle = pipelineHandle(client(), 'wf_catch_up_park');
    const parked = await waitForStatus(client(), 'wf_catch_up_park', 'parked in failed', (s) => s.phase === 'failed');
    const s = scripts.get('wf_catch_up_park')!;
    assert.equal(parked.lastError?.type, 'BadValueError');
    assert.match(parked.lastError?.message ?? '', /loading b3: value out of range/);
    assert.equal(parked.batches, 2);
    assert.deepEqual(s.loads, ['b1', 'b2']);
    assert.equal(indexOf(parked.catchUpTarget), BATCHES);
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'a parked catch-up run waits; it does not complete or fail');

    s.refuse.clear();
    await handle.signal(resumeSignal);
    const result = await handle.result();
    assert.equal(result.phase, 'caught-up');
    assert.equal(result.batches, BATCHES);
    assert.equal(result.lastError, null);
    assert.deepEqual(s.loads, ['b1', 'b2', 'b3', 'b4', 'b5'], 'the refused batch is loaded on resume, then the rest');
    assert.equal(indexOf(result.checkpoint?.position), BATCHES);
    assert.equal(s.positionReads, 1, 'the target is the source position at the start, not re-read after the park');
    // Replayed by test/integration/workflow-replay.test.ts: a run that parked, resumed and completed.
    if (process.env.DUCKTAIL_RECORD_HISTORY === '1') {
      await writeFile(new URL('../fixtures/histories/pipeline-catch-up-parked-resumed.json', import.meta.url), historyToJSON(await handle.fetchHistory()));
    }
  });

  test('a catch-up run that continues as new keeps its target and completes as caught-up at it', { timeout: 60_000 }, async () => {
    await startPipelineWorkflow(client(), TQ, spec('wf_catch_up_can'), { catchUp: true, batchesPerRun: 2 });
    const result = await pipelineHandle(client(), 'wf_catch_up_can').result();
    const s = scripts.get('wf_catch_up_can')!;
    assert.equal(result.phase, 'caught-up');
    assert.equal(result.runs, 3);
    assert.equal(result.batches, BATCHES);
    assert.deepEqual(s.loads, ['b1', 'b2', 'b3', 'b4', 'b5']);
    assert.equal(indexOf(result.catchUpTarget), BATCHES);
    assert.equal(s.positionReads, 1, 'the target is read once, in the first run');
    assert.equal(s.prepares, 1);
  });

  test('continue-as-new carries the checkpoint and the totals into the next run', { timeout: 60_000 }, async () => {
    await startPipelineWorkflow(client(), TQ, spec('wf_can'), { batchesPerRun: 2 });
    const status = await waitForStatus(client(), 'wf_can', 'every batch loaded over several runs', (s) => s.batches === BATCHES && s.runs >= 3);
    const s = scripts.get('wf_can')!;
    assert.deepEqual(s.loads, ['b1', 'b2', 'b3', 'b4', 'b5'], 'each batch once, in order, across runs');
    assert.deepEqual(s.captures.slice(0, BATCHES), [0, 1, 2, 3, 4], 'each run starts where the last one left off');
    assert.equal(s.prepares, 1, 'later runs do not prepare again: the checkpoint came along');
    assert.equal(indexOf(status.checkpoint?.position), BATCHES);
    assert.equal(status.events, BATCHES * 10);
    assert.deepEqual(status.counts, { 's.t': { insert: BATCHES * 10 } });
    assert.equal(s.prepares, 1, 'a carried checkpoint is not prepared again');
    const handle = pipelineHandle(client(), 'wf_can');
    await handle.cancel();
    assert.equal(((await handle.result())).phase, 'stopped');
  });
});
