import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DestinationBusyError } from '../../../src/errors.js';
import { DuckDBSession, RELEASE_AFTER_MS } from '../../../src/destinations/duckdb/duckdb-connection.js';
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

  test('opening waits while another process holds the file, then throws a retryable DestinationBusyError naming the file and the fix', async () => {
    const file = path.join(dir, 'busy.duckdb');
    const holder = await holdFile(file);
    const started = Date.now();
    try {
      await assert.rejects(DuckDBSession.open(file, { busyWaitMs: 600 }), (err: unknown) => {
        assert.ok(err instanceof DestinationBusyError);
        assert.equal(err.nonRetryable, false);
        assert.ok(err.message.includes(file));
        assert.match(err.message, /close the other program/);
        return true;
      });
      assert.ok(Date.now() - started >= 500, 'it retried the open for the wait time');
    } finally {
      await release(holder);
    }
    const dest = await openDuckDBDestination(file);
    assert.equal(await dest.readCheckpoint('p'), null);
    await dest.close();
  });

  test('an open that finds the file held waits for the reader (no error) when it lets go within the wait', async () => {
    const file = path.join(dir, 'reader.duckdb');
    const holder = await holdFile(file);
    const letGo = setTimeout(() => void release(holder), 800);
    try {
      const started = Date.now();
      const dest = await openDuckDBDestination(file);
      assert.ok(Date.now() - started >= 700, 'it waited for the holder');
      assert.equal(await dest.readCheckpoint('p'), null);
      await dest.close();
    } finally {
      clearTimeout(letGo);
      if (holder.exitCode === null && holder.signalCode === null) await release(holder);
    }
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

  test('between operations the file is released, so others can read it; work while it is held waits, then succeeds', async () => {
    const file = path.join(dir, 'shared.duckdb');
    const dest = await openDuckDBDestination(file);
    try {
      await dest.initCheckpoint('p', { position: null, batchId: 'one' });
      await new Promise((r) => setTimeout(r, RELEASE_AFTER_MS + 500));
      const reader = await holdFile(file); // a user's session on the file, between two batches
      const letGo = setTimeout(() => void release(reader), 500);
      try {
        assert.deepEqual(await dest.readCheckpoint('p'), { position: null, batchId: 'one' }, 'nothing was lost');
      } finally {
        clearTimeout(letGo);
        if (reader.exitCode === null && reader.signalCode === null) await release(reader);
      }
    } finally {
      await dest.close();
    }
  });

  test('under back-to-back work the session yields the file for a reader window', async () => {
    const file = path.join(dir, 'yield.duckdb');
    const session = await DuckDBSession.open(file, { maxHoldMs: 300, readerWindowMs: 400, releaseAfterMs: 10_000 });
    try {
      await session.exclusive((db) => db.run('CREATE TABLE t (i INTEGER)'));
      let stop = false;
      const writes = (async () => {
        for (let i = 0; !stop; i++) await session.exclusive((db) => db.run(`INSERT INTO t VALUES (${i})`));
      })();
      // A reader that tries every 100 ms gets in although the writer never pauses.
      const reader = await holdFileWithin(file, 3_000);
      await release(reader);
      stop = true;
      await writes;
      const [row] = await session.exclusive((db) => db.rows('SELECT count(*)::INT AS n FROM t'));
      assert.ok(Number(row?.n) > 0);
    } finally {
      await session.close();
    }
  });
});

/** Tries to open the file from another process every 100 ms until it succeeds or `withinMs` passes. */
async function holdFileWithin(file: string, withinMs: number) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await holdFile(file);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
