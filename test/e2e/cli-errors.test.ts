import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { tempDir } from '../helpers/pipelines.js';
import { ensurePgDatabase, PG_HOST, PG_PORT, PG_USER, pgConnect } from '../helpers/postgres.js';
import { runCli } from '../helpers/temporal.js';

const DB = 'ducktail_e2e';

describe('bad input gets a clear error and a non-zero exit (ducktail start)', () => {
  let dir: string;
  const source = { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB };

  async function start(pipeline: Record<string, unknown>): Promise<{ code: number; stderr: string; stdout: string }> {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, stringify({ pipelines: [{ name: 'bad', destination: { path: 'x.duckdb' }, ...pipeline }] }));
    // Port 1: nothing listens, so reaching Temporal would fail; every case must fail before that.
    return runCli(['--config', file, '--address', '127.0.0.1:1', 'start']);
  }

  before(async () => {
    dir = await tempDir('ducktail-cli');
    await ensurePgDatabase(DB);
    const pgc = await pgConnect(DB);
    await pgc.query('DROP SCHEMA IF EXISTS e2e_cli CASCADE; CREATE SCHEMA e2e_cli; CREATE TABLE e2e_cli.nokey (a int, b text)');
    await pgc.end();
  });

  test('missing config file', async () => {
    const r = await runCli(['--config', path.join(dir, 'nope.yaml'), 'status']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read config file .*nope\.yaml/);
  });

  test('invalid field: named, with the fix', async () => {
    const r = await start({ source: { ...source, tables: ['orders'] }, mode: 'upsert' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pipelines\[0\]\.source\.tables\[0\]: write tables as schema\.table/);
    assert.match(r.stderr, /pipelines\[0\]\.mode: mode is merge \(current state\) or append \(audit log\)/);
  });

  test('password in a URL is refused and not echoed', async () => {
    const r = await start({ source: { kind: 'postgres', url: `postgres://${PG_USER}:s3cret@${PG_HOST}:${PG_PORT}/${DB}`, tables: ['e2e_cli.nokey'] } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /contains a password/);
    assert.doesNotMatch(r.stderr + r.stdout, /s3cret/);
  });

  test('missing table', async () => {
    const r = await start({ source: { ...source, tables: ['e2e_cli.missing_table'] } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /e2e_cli\.missing_table/);
    assert.match(r.stderr, /does not exist|not found/i);
  });

  test('table without primary key in merge mode', async () => {
    const r = await start({ source: { ...source, tables: ['e2e_cli.nokey'] } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /e2e_cli\.nokey has no primary key/);
    assert.match(r.stderr, /keyless: append/);
  });

  test('unreachable database', async () => {
    const r = await start({ source: { ...source, port: 1, tables: ['e2e_cli.nokey'] } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /127\.0\.0\.1:1/);
  });

  test('passwordEnv naming a variable the environment lacks', async () => {
    const r = await start({ source: { ...source, passwordEnv: 'DUCKTAIL_TEST_NO_SUCH_VAR', tables: ['e2e_cli.nokey'] } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /DUCKTAIL_TEST_NO_SUCH_VAR/);
  });

  test('a good config gets as far as Temporal, and says how to reach it', async () => {
    const pgc = await pgConnect(DB);
    await pgc.query('CREATE TABLE IF NOT EXISTS e2e_cli.good (id int PRIMARY KEY)');
    await pgc.end();
    const r = await start({ source: { ...source, tables: ['e2e_cli.good'] } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach the Temporal server at 127\.0\.0\.1:1/);
    assert.match(r.stderr, /ducktail dev/);
  });
});
