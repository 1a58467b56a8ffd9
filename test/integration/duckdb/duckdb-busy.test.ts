import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DestinationBusyError } from '../../../src/errors.js';
import { RELEASE_AFTER_MS } from '../../../src/destinations/duckdb/duckdb-connection.js';
import { openDuckDBDestination } from '../../../src/destinations/duckdb/duckdb-destination.js';
import { holdDuckDBFile as holdFile, releaseHeldFile as release } from '../../helpers/duckdb.js';

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
