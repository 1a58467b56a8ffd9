import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DucktailMetrics } from '../../../src/metrics/metrics.js';
import { seriesOf } from '../../helpers/metrics.js';

test('a loaded batch counts one batch and its changes per table and operation, skipping zeros', async () => {
  const m = new DucktailMetrics({ processMetrics: false });
  m.batchLoaded('shop', { 'public.orders': { insert: 3, update: 2, delete: 0 }, 'public.items': { snapshot: 150 } });
  m.batchLoaded('shop', { 'public.orders': { insert: 1 } });
  m.batchLoaded('crm', {});
  assert.deepEqual(
    await seriesOf(m, 'ducktail_changes_total'),
    new Map([
      ['pipeline=shop,table=public.orders,op=insert', 4],
      ['pipeline=shop,table=public.orders,op=update', 2],
      ['pipeline=shop,table=public.items,op=snapshot', 150],
    ]),
  );
  assert.deepEqual(await seriesOf(m, 'ducktail_batches_total'), new Map([['pipeline=shop', 2], ['pipeline=crm', 1]]));
});

test('gauges keep the last value per pipeline; durations land in the histogram by step', async () => {
  const m = new DucktailMetrics({ processMetrics: false });
  m.lagBytes('shop', 100);
  m.lagBytes('shop', 40);
  m.lagSeconds('shop', 1.5);
  m.sourceRetained('shop', 1 << 20);
  m.stepDuration('shop', 'capture', 0.3);
  m.stepDuration('shop', 'load', 0.02);
  m.stepDuration('shop', 'load', 4);
  m.failure('shop', 'DestinationError');
  assert.deepEqual(await seriesOf(m, 'ducktail_lag_bytes'), new Map([['pipeline=shop', 40]]));
  assert.deepEqual(await seriesOf(m, 'ducktail_lag_seconds'), new Map([['pipeline=shop', 1.5]]));
  assert.deepEqual(await seriesOf(m, 'ducktail_source_retained_bytes'), new Map([['pipeline=shop', 1048576]]));
  assert.deepEqual(await seriesOf(m, 'ducktail_failures_total'), new Map([['pipeline=shop,type=DestinationError', 1]]));
  const h = await seriesOf(m, 'ducktail_batch_duration_seconds');
  assert.equal(h.get('ducktail_batch_duration_seconds_count{pipeline=shop,step=capture}'), 1);
  assert.equal(h.get('ducktail_batch_duration_seconds_count{pipeline=shop,step=load}'), 2);
  assert.equal(h.get('ducktail_batch_duration_seconds_sum{pipeline=shop,step=load}'), 4.02);
  assert.equal(h.get('ducktail_batch_duration_seconds_bucket{le=0.025,pipeline=shop,step=load}'), 1);
});

test('the exposition names every Ducktail series, and the Node process series unless turned off', async () => {
  const m = new DucktailMetrics();
  const names = m.names();
  for (const n of ['ducktail_lag_bytes', 'ducktail_lag_seconds', 'ducktail_changes_total', 'ducktail_batches_total', 'ducktail_batch_duration_seconds', 'ducktail_failures_total', 'ducktail_source_retained_bytes', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds']) {
    assert.ok(names.includes(n), `${n} is registered`);
  }
  m.lagBytes('shop', 7);
  assert.match(await m.scrape(), /^ducktail_lag_bytes\{pipeline="shop"\} 7$/m);
  assert.ok(!new DucktailMetrics({ processMetrics: false }).names().some((n) => n.startsWith('process_')));
});
