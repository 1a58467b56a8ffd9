import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { checkDestination, type PreflightFs } from '../../../src/destinations/duckdb/duckdb-preflight.js';
import { openError } from '../../../src/destinations/duckdb/duckdb-errors.js';
import { DestinationBusyError, DestinationError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/pipelines.js';

function refused(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

describe('DuckDB destination preflight (without opening the database)', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('ducktail-dest-preflight');
  });

  test('a new file in a writable directory passes and creates nothing', async () => {
    await checkDestination(path.join(dir, 'new.duckdb'));
    assert.deepEqual(await readdir(dir), []);
  });

  test('a real DuckDB file passes: the magic bytes DUCK sit at offset 8', async () => {
    const file = path.join(dir, 'real.duckdb');
    const instance = await DuckDBInstance.create(file);
    instance.closeSync();
    await checkDestination(file);
    await mkdir(`${file}-spool`);
    await checkDestination(file); // an existing spool directory is fine
  });

  test('refuses a missing directory, a directory, a non-DuckDB file, an empty file, a spool path that is a file', async () => {
    await assert.rejects(checkDestination(path.join(dir, 'missing', 'x.duckdb')), /its directory .*missing does not exist[\s\S]*mkdir -p/);
    await mkdir(path.join(dir, 'adir'));
    await assert.rejects(checkDestination(path.join(dir, 'adir')), /adir is a directory, not a DuckDB file/);
    await writeFile(path.join(dir, 'text.duckdb'), 'hello, this is not a database at all');
    await assert.rejects(checkDestination(path.join(dir, 'text.duckdb')), /text\.duckdb exists but is not a DuckDB database/);
    await writeFile(path.join(dir, 'empty.duckdb'), '');
    await assert.rejects(checkDestination(path.join(dir, 'empty.duckdb')), /empty\.duckdb is an empty file/);
    await writeFile(path.join(dir, 'spooled.duckdb-spool'), 'x');
    await assert.rejects(checkDestination(path.join(dir, 'spooled.duckdb')), /spooled\.duckdb-spool .* exists but is not a directory/);
    await assert.rejects(checkDestination(path.join(dir, 'missing', 'x.duckdb')), (err: unknown) => err instanceof DestinationError && err.nonRetryable);
  });

  test('an unwritable directory or file (injected: permission bits do not bind root, which runs these tests)', async () => {
    const real: PreflightFs = {
      stat: (p) => import('node:fs/promises').then((f) => f.stat(p)),
      access: (p, mode) => import('node:fs/promises').then((f) => f.access(p, mode)),
      readHead: () => Promise.resolve(Buffer.from('12345678DUCK')),
      mkdir: (p) => import('node:fs/promises').then((f) => f.mkdir(p)).then(() => undefined),
      rmdir: (p) => import('node:fs/promises').then((f) => f.rmdir(p)),
    };
    const denyDir: PreflightFs = {
      ...real,
      access: (p, mode) => (p === dir && (mode & constants.W_OK) !== 0 ? Promise.reject(refused('EACCES', `permission denied, access '${p}'`)) : real.access(p, mode)),
    };
    await assert.rejects(checkDestination(path.join(dir, 'x.duckdb'), denyDir), /cannot create files in .*EACCES[\s\S]*fix: give the user running the worker \(.*\) write access/);
    const file = path.join(dir, 'locked.duckdb');
    await writeFile(file, 'placeholder');
    const denyFile: PreflightFs = { ...real, access: (p, mode) => (p === file ? Promise.reject(refused('EACCES', 'permission denied')) : real.access(p, mode)) };
    await assert.rejects(checkDestination(file, denyFile), /locked\.duckdb is not writable: EACCES/);
    const noSpool: PreflightFs = { ...real, mkdir: () => Promise.reject(refused('EACCES', 'permission denied')) };
    await assert.rejects(checkDestination(path.join(dir, 'nospool.duckdb'), noSpool), /cannot create .*nospool\.duckdb-spool/);
  });

  test("DuckDB's own open errors become non-retryable DestinationErrors with a fix; a lock stays retryable", () => {
    const cases: [string, RegExp][] = [
      ['IO Error: The file "/x/y.duckdb" exists, but it is not a valid DuckDB database file!', /not a DuckDB database/],
      ['IO Error: Could not read from file "/x/y": Is a directory', /is a directory/],
      ['IO Error: Cannot open file "/x/y.duckdb": No such file or directory', /does not exist/],
      ['IO Error: Cannot open file "/x/y.duckdb": Permission denied', /read and write access/],
      ['IO Error: Cannot open file "/x/y.duckdb": Read-only file system', /read-only/],
      ['IO Error: Cannot open file "/x/f/y.duckdb": Not a directory', /is a file/],
    ];
    for (const [message, fix] of cases) {
      const err = openError('/x/y.duckdb', new Error(message));
      assert.ok(err instanceof DestinationError, message);
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, fix);
    }
    const lock = openError('/x/y.duckdb', new Error('IO Error: Could not set lock on file "/x/y.duckdb": Conflicting lock is held in /usr/bin/node (PID 1)'));
    assert.ok(lock instanceof DestinationBusyError && !lock.nonRetryable);
  });

  test('opening a non-DuckDB file through the destination fails non-retryably, not forever', async () => {
    const { openDuckDBDestination } = await import('../../../src/destinations/duckdb/duckdb-destination.js');
    const file = path.join(dir, 'opened-text.duckdb');
    await writeFile(file, 'not a database, really not');
    await assert.rejects(openDuckDBDestination(file), (err: unknown) => err instanceof DestinationError && /not a DuckDB database/.test(err.message));
  });
});
