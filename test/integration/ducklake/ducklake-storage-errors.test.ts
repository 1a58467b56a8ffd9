import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckLakeSession } from '../../../src/destinations/ducklake/ducklake-session.js';
import { DestinationError, StorageUnreachableError } from '../../../src/errors.js';
import type { LakeStorageSpec } from '../../../src/model/pipeline-spec.js';
import { createTestLake, LAKE_SKIP, type TestLake } from '../../helpers/ducklake.js';
import { S3_SERVER_SKIP, startS3Server, type S3TestServer } from '../../helpers/s3-server.js';

const BUCKET = 'ducktail-errors';
const ENV = { keyIdEnv: 'TEST_S3_KEY_ID', secretEnv: 'TEST_S3_SECRET' };

function storage(endpoint: string): LakeStorageSpec {
  return { kind: 's3', endpoint, urlStyle: 'path', useSsl: false, region: 'us-east-1', ...ENV };
}

/**
 * Opens a session on a fresh lake with its data under `s3://bucket/lake/`, keeps a temporary
 * table in it (gone if the session reattached), and runs the lake's first write: a table with one
 * row, i.e. one Parquet file PUT to the store. Returns what that write threw.
 */
async function firstWrite(lakes: TestLake[], bucket: string, store: LakeStorageSpec, keys: { keyId: string; secret: string }): Promise<{ err: unknown; reattached: boolean }> {
  const lake = await createTestLake(`s3://${bucket}/lake/`);
  lakes.push(lake);
  lake.destination.storage = store;
  const session = await DuckLakeSession.open({ destination: lake.destination, storageKeys: keys });
  try {
    await session.exclusive((db) => db.run('CREATE TEMP TABLE still_attached AS SELECT 1 AS x'));
    const err = await session.exclusive((db) => db.run('CREATE TABLE t AS SELECT 1 AS a')).then(
      () => null,
      (e: unknown) => e,
    );
    const reattached = await session.exclusive((db) => db.rows('SELECT x FROM temp.still_attached')).then(
      () => false,
      () => true,
    );
    return { err, reattached };
  } finally {
    await session.close();
  }
}

function assertParks(err: unknown, pattern: RegExp): asserts err is DestinationError {
  assert.ok(err instanceof DestinationError, `expected a DestinationError, got: ${String(err)}`);
  assert.equal(err.nonRetryable, true);
  assert.match(err.message, pattern);
}

describe('DuckLake object-storage errors (local S3 server)', { skip: LAKE_SKIP || S3_SERVER_SKIP }, () => {
  let s3: S3TestServer;
  const lakes: TestLake[] = [];
  const anyKeys = { keyId: 'AKIDUCKTAILTEST', secret: 'any-secret' };
  before(async () => {
    s3 = await startS3Server();
    await s3.createBucket(BUCKET);
  });
  after(async () => {
    for (const lake of lakes) await lake.drop();
    await s3?.stop();
  });

  test('a bucket that does not exist: a non-retryable DestinationError naming it and the fix; the session stays attached', async () => {
    const { err, reattached } = await firstWrite(lakes, 'no-such-bucket', storage(s3.endpoint), anyKeys);
    assertParks(err, /the bucket s3:\/\/no-such-bucket does not exist on the store at 127\.0\.0\.1:\d+ \(NoSuchBucket: The specified bucket does not exist\)/);
    assert.match(err.message, /fix: create the bucket no-such-bucket on the store at 127\.0\.0\.1:\d+, or fix destination\.dataPath/);
    assert.equal(reattached, false, 'a missing bucket is not a lost catalog link');
  });

  test('an endpoint nothing listens on: the retryable StorageUnreachableError (the store may come back)', async () => {
    const { err, reattached } = await firstWrite(lakes, BUCKET, storage('127.0.0.1:1'), anyKeys);
    assert.ok(err instanceof StorageUnreachableError && !err.nonRetryable, `expected a retryable StorageUnreachableError, got: ${String(err)}`);
    assert.match(err.message, /cannot reach the store at 127\.0\.0\.1:1 \(IO Error: Could not connect to server error for HTTP PUT to 'http:\/\/127\.0\.0\.1:1\/ducktail-errors\/lake\//);
    assert.equal(reattached, false);
  });

  describe('with the server checking keys', () => {
    let keys: { keyId: string; secret: string };
    before(async () => {
      keys = await s3.createAccessKey();
      await s3.enforceAuth();
    });

    test('the right keys write', async () => {
      const { err } = await firstWrite(lakes, BUCKET, storage(s3.endpoint), keys);
      assert.equal(err, null);
    });

    test('an unknown key id or a wrong secret: non-retryable, naming the variables and never the secret', async () => {
      const cases = [
        { keys: { keyId: 'AKIANOSUCHKEY0000000', secret: keys.secret }, code: 'InvalidAccessKeyId' },
        { keys: { keyId: keys.keyId, secret: 'wr0ng-s3cret' }, code: 'SignatureDoesNotMatch' },
      ];
      for (const c of cases) {
        const { err, reattached } = await firstWrite(lakes, BUCKET, storage(s3.endpoint), c.keys);
        assertParks(err, new RegExp(`the store at 127\\.0\\.0\\.1:\\d+ refused the keys \\(${c.code}: `));
        assert.match(err.message, /fix: check the keys in the worker's environment variables TEST_S3_KEY_ID, TEST_S3_SECRET/);
        assert.ok(!err.message.includes(c.keys.secret), 'the secret is not in the message');
        assert.equal(reattached, false);
      }
    });
  });
});
