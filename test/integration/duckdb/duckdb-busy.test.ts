import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DestinationBusyError } from '../../../src/errors.js';
import { RELEASE_AFTER_MS } from '../../../src/destinations/duckdb/duckdb-connection.js';
import { openDuckDBDestination } from '../../../src/destinations/duckdb/duckdb-destination.js';

/** Another process holding the DuckDB file open, as the duckdb CLI would. */
async function holdFile(file: string): Promise<ChildProcess> {
  const script = `const { DuckDBInstance } = require('@duckdb/node-api');
    DuckDBInstance.create(${JSON.stringify(file)}).then(
      () => { console.log('open'); setInterval(() => {}, 1000); },
      (err) => { console.log('failed: ' + err.message); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [data] = (await once(child.stdout, 'data')) as [Buffer];
  if (!data.toString().startsWith('open')) throw new Error(`the other process could not open ${file}: ${data.toString()}`);
  return child;
}

async function release(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill();
  await exited;
}

describe('DuckDB destination, file held by another process', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ducktail-busy-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('opening throws a retryable DestinationBusyError naming the file and the fix; a retry succeeds', async () => {
    const file = path.join(dir, 'busy.duckdb');
    const holder = await holdFile(file);
    try {
      await assert.rejects(openDuckDBDestination(file), (err: unknown) => {
        assert.ok(err instanceof DestinationBusyError);
        assert.equal(err.nonRetryable, false);
        assert.ok(err.message.includes(file));
        assert.match(err.message, /close the other program/);
        return true;
      });
    } finally {
      await release(holder);
    }
    const dest = await openDuckDBDestination(file);
    assert.equal(await dest.readCheckpoint('p'), null);
    await dest.close();
  });

  test('close releases the file for other processes', async () => {
    const file = path.join(dir, 'released.duckdb');
    const dest = await openDuckDBDestination(file);
    await dest.initCheckpoint('p', { position: null, batchId: '' });
    await Promise.all([dest.close(), dest.close()]);
    await assert.rejects(dest.readCheckpoint('p'), /closed/);
    const other = await holdFile(file);
    await release(other);
    const reopened = await openDuckDBDestination(file);
    assert.notEqual(reopened, dest);
    assert.deepEqual(await reopened.readCheckpoint('p'), { position: null, batchId: '' });
    await reopened.close();
  });

  test('between operations the file is released, so others can read it; work while it is held fails retryably, then succeeds', async () => {
    const file = path.join(dir, 'shared.duckdb');
    const dest = await openDuckDBDestination(file);
    try {
      await dest.initCheckpoint('p', { position: null, batchId: 'one' });
      await new Promise((r) => setTimeout(r, RELEASE_AFTER_MS + 500));
      const reader = await holdFile(file); // a user's session on the file, between two batches
      try {
        await assert.rejects(dest.readCheckpoint('p'), (err: unknown) => err instanceof DestinationBusyError && !err.nonRetryable);
      } finally {
        await release(reader);
      }
      assert.deepEqual(await dest.readCheckpoint('p'), { position: null, batchId: 'one' }, 'nothing was lost');
    } finally {
      await dest.close();
    }
  });
});
