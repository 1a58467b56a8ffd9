import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure, CancelledFailure, type Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { CaptureBatchResult, LoadBatchResult, PipelineActivities } from '../../../src/activities/activity-types.js';
import { observeActivities } from '../../../src/activities/observe-activities.js';
import { asActivity } from '../../../src/activities/to-failure.js';
import { DestinationError } from '../../../src/errors.js';
import { DucktailMetrics } from '../../../src/metrics/metrics.js';
import type { BatchSummary } from '../../../src/model/batch.js';
import type { PipelineSpec } from '../../../src/model/pipeline-spec.js';
import { seriesOf } from '../../helpers/metrics.js';

const spec = { name: 'shop' } as PipelineSpec;
const checkpoint = { position: null, batchId: 'b0' };
const batch: BatchSummary = {
  batchId: 'b1',
  spoolDir: '/nowhere',
  counts: { 'public.orders': { insert: 5, delete: 1 } },
  events: 6,
  bytes: 600,
  lastCommitTs: '2026-01-01T00:00:00.000Z',
  schemaChanges: [],
};
const T0 = Date.parse('2026-01-01T00:00:10.000Z');

/** Activities that answer with the given results (or throw), each taking 250 ms of a fake clock. */
function fakeActivities(clock: { t: number }, results: { capture?: Partial<CaptureBatchResult>; load?: Partial<LoadBatchResult>; fail?: () => never }): PipelineActivities {
  const take = <T>(value: T): Promise<T> => {
    clock.t += 250;
    return Promise.resolve().then(() => {
      if (results.fail !== undefined) results.fail();
      return value;
    });
  };
  return {
    preparePipeline: () => asActivity(() => take({ checkpoint, warnings: [], tables: [] })),
    captureBatch: () => asActivity(() => take({ checkpoint, batch, reachedTarget: false, position: null, lagBytes: 4096, ...results.capture })),
    loadBatch: () => asActivity(() => take({ checkpoint, skipped: false, counts: {}, position: null, ...results.load })),
    sourcePosition: () => asActivity(() => take({ kind: 'pg', lsn: '0/0', ackLsn: '0/0' })),
    interruptCapture: () => Promise.resolve(false),
    observeSource: () => asActivity(() => take({ retention: { bytes: 9000, log: 'WAL' as const, warnings: [], measuredAt: '2026-01-01T00:00:00.000Z' } })),
  };
}

function observed(results: Parameters<typeof fakeActivities>[1]) {
  const clock = { t: T0 };
  const metrics = new DucktailMetrics({ processMetrics: false });
  return { metrics, activities: observeActivities(fakeActivities(clock, results), metrics, () => clock.t) };
}

test('a committed load counts its batch and changes, its duration, and the lag to its newest commit', async () => {
  const { metrics, activities } = observed({});
  await activities.captureBatch({ spec });
  await activities.loadBatch({ spec, batch });
  assert.deepEqual(await seriesOf(metrics, 'ducktail_batches_total'), new Map([['pipeline=shop', 1]]));
  assert.deepEqual(
    await seriesOf(metrics, 'ducktail_changes_total'),
    new Map([['pipeline=shop,table=public.orders,op=insert', 5], ['pipeline=shop,table=public.orders,op=delete', 1]]),
  );
  assert.deepEqual(await seriesOf(metrics, 'ducktail_lag_bytes'), new Map([['pipeline=shop', 4096]]));
  // The load ends 500 ms (two fake activities) after T0, 10 s after the batch's newest commit.
  assert.deepEqual(await seriesOf(metrics, 'ducktail_lag_seconds'), new Map([['pipeline=shop', 10.5]]));
  const h = await seriesOf(metrics, 'ducktail_batch_duration_seconds');
  assert.equal(h.get('ducktail_batch_duration_seconds_sum{pipeline=shop,step=capture}'), 0.25);
  assert.equal(h.get('ducktail_batch_duration_seconds_sum{pipeline=shop,step=load}'), 0.25);
});

test('a load skipped as already applied counts no batch and no change', async () => {
  const { metrics, activities } = observed({ load: { skipped: true } });
  await activities.loadBatch({ spec, batch });
  assert.deepEqual(await seriesOf(metrics, 'ducktail_batches_total'), new Map());
  assert.deepEqual(await seriesOf(metrics, 'ducktail_changes_total'), new Map());
  const h = await seriesOf(metrics, 'ducktail_batch_duration_seconds');
  assert.equal(h.get('ducktail_batch_duration_seconds_count{pipeline=shop,step=load}'), 1, 'the load still took its time');
});

test('an empty capture sets the lag to 0 and records no capture duration', async () => {
  const { metrics, activities } = observed({ capture: { batch: null, lagBytes: null } });
  await activities.captureBatch({ spec });
  assert.deepEqual(await seriesOf(metrics, 'ducktail_lag_seconds'), new Map([['pipeline=shop', 0]]));
  assert.deepEqual(await seriesOf(metrics, 'ducktail_lag_bytes'), new Map(), 'an unknown lag is not reported as 0');
  assert.deepEqual(await seriesOf(metrics, 'ducktail_batch_duration_seconds'), new Map());
});

test('failed attempts count by the failure type the workflow sees; cancellations do not count', async () => {
  const quiet = (): void => undefined;
  const logger: Logger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };
  const env = new MockActivityEnvironment({ activityType: 'preparePipeline', workflowExecution: { workflowId: 'ducktail-shop', runId: 'r' } }, { logger });
  const bad = observed({ fail: () => { throw new DestinationError('cannot write /x.duckdb'); } });
  await assert.rejects(env.run(() => bad.activities.preparePipeline({ spec })), (err: unknown) => err instanceof ApplicationFailure && err.type === 'DestinationError');
  await assert.rejects(env.run(() => bad.activities.loadBatch({ spec, batch })));
  const odd = observed({ fail: () => { throw new TypeError('boom'); } });
  await assert.rejects(env.run(() => odd.activities.captureBatch({ spec })));
  const stopped = observed({ fail: () => { throw new CancelledFailure('stopping'); } });
  await assert.rejects(env.run(() => stopped.activities.captureBatch({ spec })));
  assert.deepEqual(await seriesOf(bad.metrics, 'ducktail_failures_total'), new Map([['pipeline=shop,type=DestinationError', 2]]));
  assert.deepEqual(await seriesOf(odd.metrics, 'ducktail_failures_total'), new Map([['pipeline=shop,type=TypeError', 1]]));
  assert.deepEqual(await seriesOf(stopped.metrics, 'ducktail_failures_total'), new Map());
  assert.deepEqual(await seriesOf(bad.metrics, 'ducktail_batches_total'), new Map(), 'a failed load counts nothing');
});

test('a spec typed into the UI without a name counts its failure under "unknown"', async () => {
  const bad = observed({ fail: () => { throw new DestinationError('no'); } });
  await assert.rejects(bad.activities.preparePipeline({ spec: {} as PipelineSpec }));
  assert.deepEqual(await seriesOf(bad.metrics, 'ducktail_failures_total'), new Map([['pipeline=unknown,type=DestinationError', 1]]));
});

test('retained bytes come from captures and from observing a paused pipeline', async () => {
  const { metrics, activities } = observed({ capture: { retention: { bytes: 123, log: 'WAL', warnings: [], measuredAt: '2026-01-01T00:00:00.000Z' } } });
  await activities.captureBatch({ spec });
  assert.deepEqual(await seriesOf(metrics, 'ducktail_source_retained_bytes'), new Map([['pipeline=shop', 123]]));
  await activities.observeSource({ spec, waitMs: 0 });
  assert.deepEqual(await seriesOf(metrics, 'ducktail_source_retained_bytes'), new Map([['pipeline=shop', 9000]]));
});
