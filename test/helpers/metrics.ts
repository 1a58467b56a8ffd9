import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { DucktailMetrics } from '../../src/metrics/metrics.js';

/** The value of each series of one metric, keyed by its labels (`a=1,b=2`) and, for histograms, its series name. */
export async function seriesOf(metrics: DucktailMetrics, name: string): Promise<Map<string, number>> {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric !== undefined, `${name} is registered`);
  const out = new Map<string, number>();
  for (const v of (await metric.get()).values as { value: number; labels: object; metricName?: string }[]) {
    const labels = Object.entries(v.labels).map(([k, x]) => `${k}=${x}`).join(',');
    out.set(v.metricName === undefined || v.metricName === name ? labels : `${v.metricName}{${labels}}`, v.value);
  }
  return out;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    assert.ok(m !== null, `an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** The sample dashboard and alert rules in deploy/ (see README, "Metrics"). */
export const DASHBOARD_FILE = fileURLToPath(new URL('../../deploy/grafana/ducktail.json', import.meta.url));
export const ALERTS_FILE = fileURLToPath(new URL('../../deploy/prometheus/ducktail-alerts.yml', import.meta.url));

/** Every PromQL expression of the dashboard (panels and variables) and of the alert rules. */
export async function deployedQueries(): Promise<{ dashboard: string[]; alerts: string[] }> {
  const dashboard: string[] = [];
  const walk = (node: unknown, key = ''): void => {
    if (typeof node === 'string' && ['expr', 'query', 'definition'].includes(key)) dashboard.push(node);
    else if (Array.isArray(node)) for (const x of node) walk(x, key);
    else if (typeof node === 'object' && node !== null) for (const [k, v] of Object.entries(node)) walk(v, k);
  };
  const json = JSON.parse(await readFile(DASHBOARD_FILE, 'utf8')) as { templating: unknown; panels: unknown };
  walk(json.panels);
  walk(json.templating);
  const rules = parse(await readFile(ALERTS_FILE, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
  return { dashboard, alerts };
}

/** The metric names a PromQL expression uses, with the given prefixes. */
export function metricNamesIn(expr: string, prefixes: string[]): string[] {
  const re = new RegExp(String.raw`\b(?:${prefixes.join('|')})[a-zA-Z0-9_]*`, 'g');
  return [...new Set(expr.match(re) ?? [])];
}
