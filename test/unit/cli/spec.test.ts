import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { loadConfig, parsePipelineSpec, parseConfig } from '../../../src/config/load-config.js';
import { formatStartForm, startForm } from '../../../src/cli/spec.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The README's `ducktail spec demo` example: the fields and the JSON input after them. */
async function readmeExample(): Promise<{ fields: string; input: unknown }> {
  const readme = await readFile(`${root}README.md`, 'utf8');
  const m = /```console\n\$ npx ducktail spec demo\n([\s\S]*?json\/plain\):)\n(\{[\s\S]*?\n\})\n```/.exec(readme);
  assert.ok(m?.[1] !== undefined && m[2] !== undefined, 'README shows `npx ducktail spec demo` with its output');
  return { fields: m[1], input: JSON.parse(m[2]) };
}

describe('ducktail spec: the Start Workflow form input', () => {
  test('the README shows exactly what `ducktail spec demo` prints for the bundled ducktail.yaml (but the absolute path)', async () => {
    const config = await loadConfig(`${root}ducktail.yaml`);
    const demo = config.pipelines.find((p) => p.name === 'demo');
    assert.ok(demo !== undefined);
    const { fields, input } = formatStartForm(startForm(config, demo));
    const shown = await readmeExample();
    assert.equal(shown.fields, fields);
    const printed = JSON.parse(input) as { spec: { destination: { path: string } } };
    assert.equal(printed.spec.destination.path, `${root}ducktail.duckdb`);
    printed.spec.destination.path = '/home/you/ducktail/ducktail.duckdb';
    assert.equal(JSON.stringify(shown.input, null, 2), JSON.stringify(printed, null, 2), 'same fields, same order');
  });

  test('the input is the validated spec with every default filled, no secret, and validates to itself', () => {
    const config = parseConfig(
      {
        temporal: { taskQueue: 'q' },
        pipelines: [{ name: 'shop', source: { kind: 'mysql', url: 'mysql://repl@db:3307', passwordEnv: 'SHOP_PW', tables: ['shop.*'] }, destination: { path: 'shop.duckdb' } }],
      },
      '/etc/ducktail/ducktail.yaml',
    );
    const form = startForm(config, config.pipelines[0]!);
    assert.deepEqual([form.workflowId, form.taskQueue, form.workflowType], ['ducktail-shop', 'q', 'pipelineWorkflow']);
    const { spec } = form.input;
    assert.deepEqual(Object.keys(spec), ['name', 'source', 'destination', 'mode', 'keyless', 'batch', 'snapshot']);
    assert.deepEqual(spec.source, { kind: 'mysql', host: 'db', port: 3307, user: 'repl', passwordEnv: 'SHOP_PW', tables: ['shop.*'], serverId: spec.source.kind === 'mysql' ? spec.source.serverId : 0 });
    assert.deepEqual(spec.destination, { path: '/etc/ducktail/shop.duckdb' });
    assert.doesNotMatch(JSON.stringify(form.input), /password"|url"/i);
    assert.deepEqual(parsePipelineSpec((JSON.parse(formatStartForm(form).input) as { spec: unknown }).spec), config.pipelines[0]);
  });
});
