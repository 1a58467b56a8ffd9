import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { pgE2E, E2E_DB } from '../helpers/pg-e2e.js';
import { startPipelineWorkflow, waitForStatus } from '../helpers/pipelines.js';
import { PG_HOST, PG_PORT, PG_USER } from '../helpers/postgres.js';
import { duckQuery } from '../helpers/duckdb.js';
import { cliCommand, runCli } from '../helpers/temporal.js';
import { pipelineHandle } from '../../src/temporal/pipeline-contract.js';

const RUN = process.pid.toString(36);
const TQ = `e2e-bad-dest-${RUN}`;
const PREFIX = `ducktail_e2e_bd_${RUN}`;
const SCHEMA = `e2e_bd_${RUN}`;

/**
 * Issue 6, item 6: a DuckDB path that cannot work fails `ducktail start` with the reason and the
 * fix and a non-zero exit, before anything is created at the source or in the file system; a
 * pipeline started another way (Temporal UI) parks in `failed` with the same message.
 */
describe('bad DuckDB destinations fail clearly and create nothing (real PostgreSQL, Temporal)', () => {
  const h = pgE2E({
    taskQueue: TQ,
    slotPrefix: PREFIX,
    schemaSql: `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}; CREATE TABLE ${SCHEMA}.t (id int PRIMARY KEY); INSERT INTO ${SCHEMA}.t SELECT generate_series(1, 5)`,
  });
  let cases = 0;

  /** Writes a config for one pipeline writing `dbPath`; returns its file and the pipeline's name. */
  async function config(dbPath: string, taskQueue = TQ, sourceExtra: Record<string, unknown> = {}): Promise<{ file: string; name: string }> {
    const name = `bd_${RUN}_${++cases}`;
    const file = path.join(h.dir, `${name}.yaml`);
    await writeFile(file, stringify({
      temporal: { taskQueue },
      pipelines: [{
        name,
        source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: E2E_DB, tables: [`${SCHEMA}.t`], slot: `${PREFIX}_${cases}`, publication: `${PREFIX}_${cases}`, ...sourceExtra },
        destination: { path: dbPath },
      }],
    }));
    return { file, name };
  }

  const start = (file: string, ...more: string[]) => runCli(['--config', file, '--address', h.server.address, 'start', ...more]);

  async function assertNothingAtSource(): Promise<void> {
    const slots = await h.pgc.query('SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE $1', [`${PREFIX}%`]);
    assert.deepEqual(slots.rows, [], 'no replication slot was created');
    const pubs = await h.pgc.query('SELECT pubname FROM pg_publication WHERE pubname LIKE $1', [`${PREFIX}%`]);
    assert.deepEqual(pubs.rows, [], 'no publication was created');
  }

  async function assertNotStarted(name: string): Promise<void> {
    await assert.rejects(pipelineHandle(h.server.env.client, name).describe(), /not found/i);
  }

  test('a directory that does not exist', async () => {
    const missing = path.join(h.dir, 'no-such-dir');
    const { file, name } = await config(path.join(missing, 'x.duckdb'));
    const r = await start(file);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /DuckDB file .*no-such-dir\/x\.duckdb: its directory .*no-such-dir does not exist/);
    assert.match(r.stderr, /fix: create it \(mkdir -p .*no-such-dir\) or fix destination\.path/);
    assert.equal(existsSync(missing), false, 'nothing was created');
    await assertNothingAtSource();
    await assertNotStarted(name);
  });

  test('a directory where the file should be', async () => {
    const dirPath = path.join(h.dir, 'a-directory');
    await mkdir(dirPath);
    const { file } = await config(dirPath);
    const r = await start(file);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /destination\.path .*a-directory is a directory, not a DuckDB file/);
    assert.match(r.stderr, /fix: point destination\.path at a file, e\.g\. .*a-directory\/ducktail\.duckdb/);
    assert.deepEqual(await readdir(dirPath), [], 'nothing was written into it');
    assert.equal(existsSync(`${dirPath}-spool`), false, 'no spool directory is left behind');
    await assertNothingAtSource();
  });

  test('a file that is not a DuckDB database (and an empty one)', async () => {
    const notes = path.join(h.dir, 'notes.duckdb');
    await writeFile(notes, 'these are my notes, not a database\n'.repeat(10));
    const { file } = await config(notes);
    const r = await start(file);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /destination\.path .*notes\.duckdb exists but is not a DuckDB database/);
    assert.match(r.stderr, /Ducktail never overwrites other files/);
    assert.equal(await readFile(notes, 'utf8'), 'these are my notes, not a database\n'.repeat(10), 'the file is untouched');
    assert.equal(existsSync(`${notes}.wal`), false);

    const empty = path.join(h.dir, 'empty.duckdb');
    await writeFile(empty, '');
    const e = await start((await config(empty)).file);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /empty\.duckdb is an empty file/);
    await assertNothingAtSource();
  });

  test('a path below a file (a file where a directory is expected: unwritable, even for root)', async () => {
    const blocker = path.join(h.dir, 'blocker');
    await writeFile(blocker, 'x');
    const { file } = await config(path.join(blocker, 'x.duckdb'));
    const r = await start(file);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /DuckDB file .*blocker\/x\.duckdb: .*blocker is a file, not a directory/);
    await assertNothingAtSource();
  });

  test('a directory on a read-only file system (unwritable for root too; read-only bind mount in a private mount namespace)', async (t) => {
    const ro = path.join(h.dir, 'read-only');
    await mkdir(ro);
    const { file } = await config(path.join(ro, 'x.duckdb'));
    const script = `mount --bind -o ro "$1" "$1" && shift && exec "$@"`;
    const child = spawn('unshare', ['-m', 'sh', '-c', script, 'sh', ro, process.execPath, ...cliCommand(), '--config', file, '--address', h.server.address, 'start'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    if (/mount:|unshare:/.test(stderr) && !/DuckDB file/.test(stderr)) {
      t.skip(`cannot make a read-only bind mount here (${stderr.trim()}); the check is unit-tested with an injected EROFS`);
      return;
    }
    assert.equal(code, 1, stderr);
    assert.match(stderr, /DuckDB file .*read-only\/x\.duckdb: cannot create files in .*read-only: .*EROFS/);
    assert.match(stderr, /fix: the file system is mounted read-only: point destination\.path at a writable location/);
    assert.deepEqual(await readdir(ro), []);
    await assertNothingAtSource();
  });

  test('started another way (Temporal UI): parks in failed with the fix, creates nothing; `ducktail status` shows it', async () => {
    const notes = path.join(h.dir, 'ui-notes.duckdb');
    await writeFile(notes, 'not a database');
    const { file, name } = await config(notes);
    const [spec] = (await loadConfig(file)).pipelines;
    assert.ok(spec);
    await startPipelineWorkflow(h.server.env.client, TQ, spec);
    const failed = await waitForStatus(h.server.env.client, name, 'parked in failed', (s) => s.phase === 'failed', 30_000);
    assert.equal(failed.lastError?.type, 'DestinationError');
    assert.match(failed.lastError?.message ?? '', /ui-notes\.duckdb exists but is not a DuckDB database[\s\S]*fix:/);
    await assertNothingAtSource();

    const r = await runCli(['--config', file, '--address', h.server.address, 'status']);
    assert.match(r.stdout, new RegExp(`${name}: failed[\\s\\S]*DestinationError: .*ui-notes\\.duckdb exists but is not a DuckDB database`));
    await pipelineHandle(h.server.env.client, name).terminate('test done');
  });

  test('a worker-side failure while starting: `ducktail start` waits, prints the error and its fix, exits 1', async () => {
    // The CLI has the password variable, the worker does not: only the workflow sees the problem.
    const { file, name } = await config(path.join(h.dir, 'env.duckdb'), TQ, { passwordEnv: `DUCKTAIL_BD_ONLY_IN_CLI_${RUN}` });
    const r = await runCli(['--config', file, '--address', h.server.address, 'start'], { [`DUCKTAIL_BD_ONLY_IN_CLI_${RUN}`]: 'anything' });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`${name}: started`), r.stderr);
    assert.match(r.stderr, new RegExp(`error: ${name}: failed while starting: ConfigError: .*DUCKTAIL_BD_ONLY_IN_CLI_${RUN}[\\s\\S]*fix: export`));
    await assertNothingAtSource();
    await pipelineHandle(h.server.env.client, name).terminate('test done');
  });

  test('no worker on the task queue: `ducktail start` says so instead of waiting silently', async () => {
    const { file, name } = await config(path.join(h.dir, 'nobody.duckdb'), `${TQ}-nobody`);
    const r = await start(file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${name}: no worker polls task queue ${TQ}-nobody, so it waits: start one with \`ducktail worker\``));
    await pipelineHandle(h.server.env.client, name).terminate('test done');
  });

  test('a good destination: `ducktail start` waits until the pipeline runs', async () => {
    const { file, name } = await config(path.join(h.dir, 'good.duckdb'));
    const r = await start(file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${name}: started[\\s\\S]*${name}: running \\((snapshot|streaming)\\)`));
    const stop = await runCli(['--config', file, '--address', h.server.address, 'stop']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`${name}: stopped`));
  });

  test('a mode change for a file the pipeline loaded: `ducktail start` exits 1 with the fix; the tables keep their rows', async () => {
    const { file, name } = await config(path.join(h.dir, 'moded.duckdb'));
    const first = await start(file);
    assert.equal(first.code, 0, first.stderr);
    await waitForStatus(h.server.env.client, name, 'the snapshot loaded', (s) => s.phase === 'streaming');
    assert.equal((await runCli(['--config', file, '--address', h.server.address, 'stop'])).code, 0);
    const yaml = (await readFile(file, 'utf8')).replace('destination:', 'mode: append\n    destination:');
    await writeFile(file, yaml);
    const r = await start(file);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`${name}: failed while starting: ConfigError: pipeline ${name} has loaded this DuckDB file in merge mode; it cannot continue in append mode`));
    assert.match(r.stderr, /fix: keep mode: merge, or give the pipeline a new destination\.path/);
    await pipelineHandle(h.server.env.client, name).terminate('test done');
    const rows = await duckQuery(path.join(h.dir, 'moded.duckdb'), `SELECT count(*)::INT AS n, count(*) FILTER (WHERE __op = 'snapshot')::INT AS s FROM "${SCHEMA}".t`);
    assert.deepEqual(rows, [{ n: 5, s: 5 }], 'the merge rows are untouched');
  });
});
