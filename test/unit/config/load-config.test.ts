import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig, parsePipelineSpec } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';

const minimal = {
  pipelines: [
    {
      name: 'orders',
      source: { kind: 'postgres', tables: ['public.orders'] },
      destination: { path: './out.duckdb' },
    },
  ],
};

function configError(raw: unknown): string {
  try {
    parseConfig(raw, '/etc/ducktail.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the config to be rejected');
}

describe('config', () => {
  test('fills defaults and resolves paths against the config file', () => {
    const config = parseConfig(minimal, '/etc/ducktail/ducktail.yaml');
    const p = config.pipelines[0]!;
    assert.deepEqual(p.destination, { path: '/etc/ducktail/out.duckdb' });
    assert.equal(p.mode, 'merge');
    assert.equal(p.keyless, 'error');
    assert.deepEqual(p.batch, { maxRows: 100_000, maxBytes: 64 * 1024 * 1024, maxWaitMs: 400, idleWaitMs: 60000 });
    assert.deepEqual(p.snapshot, { enabled: true, chunkRows: 50_000 });
    assert.equal(config.temporal.taskQueue, 'ducktail');
    assert.ok(p.source.kind === 'postgres');
    assert.equal(p.source.slot, 'ducktail_orders');
    assert.equal(p.source.publication, 'ducktail_orders');
    assert.equal(p.source.host, '127.0.0.1');
  });

  test('names the field and the fix for a bad table name', () => {
    const msg = configError({ pipelines: [{ ...minimal.pipelines[0], source: { kind: 'postgres', tables: ['orders'] } }] });
    assert.match(msg, /pipelines\[0\]\.source\.tables\[0\]: write tables as schema\.table/);
  });

  test('table names with spaces, dots or quotes are written quoted and kept as written in the spec', () => {
    const tables = ['public."Odd Name"', '"sales"."a.b"', 'app.*'];
    const config = parseConfig({ pipelines: [{ ...minimal.pipelines[0], source: { kind: 'postgres', tables } }] }, '/etc/ducktail.yaml');
    assert.deepEqual(config.pipelines[0]?.source.tables, tables);
    const msg = configError({ pipelines: [{ ...minimal.pipelines[0], source: { kind: 'postgres', tables: ['public.Odd Name'] } }] });
    assert.match(msg, /quote a name holding a dot, a space or a quote: "my schema"\."Odd Name"/);
  });

  test('refuses a password in the config', () => {
    const msg = configError({
      pipelines: [{ ...minimal.pipelines[0], source: { kind: 'postgres', tables: ['public.t'], password: 'secret' } }],
    });
    assert.match(msg, /source\.password: passwords never go in ducktail\.yaml/);
    assert.doesNotMatch(msg, /secret/);
  });

  test('refuses a password inside a source URL without echoing it', () => {
    const msg = configError({
      pipelines: [{ ...minimal.pipelines[0], source: { kind: 'postgres', url: 'postgres://bob:hunter2@db:5433/app', tables: ['public.t'] } }],
    });
    assert.match(msg, /contains a password/);
    assert.match(msg, /passwordEnv/);
    assert.doesNotMatch(msg, /hunter2/);
  });

  test('takes host, port, user and database from a URL', () => {
    const config = parseConfig(
      { pipelines: [{ ...minimal.pipelines[0], source: { kind: 'postgres', url: 'postgres://bob@db.example:5433/app', tables: ['public.t'] } }] },
      '/x/ducktail.yaml',
    );
    const s = config.pipelines[0]!.source;
    assert.ok(s.kind === 'postgres');
    assert.deepEqual([s.host, s.port, s.user, s.database], ['db.example', 5433, 'bob', 'app']);
    assert.equal('url' in s, false);
  });

  test('rejects unknown fields, unknown modes and duplicate names', () => {
    assert.match(configError({ pipelines: [{ ...minimal.pipelines[0], mdoe: 'merge' }] }), /pipelines\[0\]: Unrecognized key: "mdoe"/);
    assert.match(configError({ pipelines: [{ ...minimal.pipelines[0], mode: 'upsert' }] }), /pipelines\[0\]\.mode: mode is merge/);
    assert.match(configError({ pipelines: [minimal.pipelines[0], minimal.pipelines[0]] }), /used twice/);
    assert.match(configError({ pipelines: [] }), /pipelines: define at least one pipeline/);
    assert.match(configError({ pipelines: [{ ...minimal.pipelines[0], source: { kind: 'oracle' } }] }), /source/);
  });

  test('a mysql pipeline gets a stable server id', () => {
    const raw = { name: 'shop', source: { kind: 'mysql', tables: ['shop.orders'] }, destination: { path: 'x.duckdb' } };
    const a = parsePipelineSpec(raw);
    const b = parsePipelineSpec(raw);
    assert.ok(a.source.kind === 'mysql' && b.source.kind === 'mysql');
    assert.equal(a.source.serverId, b.source.serverId);
    assert.ok(a.source.serverId >= 100_000);
  });
});
