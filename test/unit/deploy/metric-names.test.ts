import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DucktailMetrics } from '../../../src/metrics/metrics.js';
import { deployedQueries, metricNamesIn } from '../../helpers/metrics.js';

/** Every series name the worker's registry exposes (a histogram's `_bucket`, `_sum`, `_count`). */
function exposedNames(): Set<string> {
  const names = new Set<string>();
  for (const m of new DucktailMetrics().registry.getMetricsAsArray()) {
    names.add(m.name);
    const type = String(m.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

// The Temporal SDK's `temporal_*` names are checked against a real scrape in test/e2e/metrics.test.ts.
const OURS = ['ducktail_', 'process_', 'nodejs_'];

test('every Ducktail and Node metric the dashboard and the alert rules use is one the worker registers', async () => {
  const exposed = exposedNames();
  const { dashboard, alerts } = await deployedQueries();
  assert.ok(dashboard.length >= 10 && alerts.length >= 5, `queries found (${dashboard.length} in the dashboard, ${alerts.length} rules)`);
  for (const [file, exprs] of [['deploy/grafana/ducktail.json', dashboard], ['deploy/prometheus/ducktail-alerts.yml', alerts]] as const) {
    for (const expr of exprs) {
      for (const name of metricNamesIn(expr, OURS)) assert.ok(exposed.has(name), `${file} uses ${name}, which the worker does not register: ${expr}`);
    }
  }
});

test('the dashboard shows, and the alert rules watch, lag, throughput, durations, failures, retained bytes and worker health', async () => {
  const { dashboard, alerts } = await deployedQueries();
  const used = (exprs: string[]) => new Set(exprs.flatMap((e) => [...metricNamesIn(e, OURS), ...(/\bup\{/.test(e) ? ['up'] : [])]));
  const shown = used(dashboard);
  for (const name of ['ducktail_lag_bytes', 'ducktail_lag_seconds', 'ducktail_changes_total', 'ducktail_batches_total', 'ducktail_batch_duration_seconds_bucket', 'ducktail_failures_total', 'ducktail_source_retained_bytes', 'up']) {
    assert.ok(shown.has(name), `the dashboard shows ${name}`);
  }
  const watched = used(alerts);
  for (const name of ['ducktail_lag_seconds', 'ducktail_lag_bytes', 'ducktail_failures_total', 'ducktail_source_retained_bytes', 'up']) {
    assert.ok(watched.has(name), `an alert rule watches ${name}`);
  }
});

test('metricNamesIn finds names in selectors and functions, and ignores label values and other prefixes', () => {
  assert.deepEqual(
    metricNamesIn('histogram_quantile(0.9, sum by (le) (rate(ducktail_batch_duration_seconds_bucket{step="load"}[5m]))) / temporal_request', ['ducktail_']),
    ['ducktail_batch_duration_seconds_bucket'],
  );
  assert.deepEqual(metricNamesIn('process_resident_memory_bytes > 1e9 and on() nodejs_version_info', OURS), ['process_resident_memory_bytes', 'nodejs_version_info']);
});
