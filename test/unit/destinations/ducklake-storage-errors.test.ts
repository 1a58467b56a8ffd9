import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lakeError, storageError } from '../../../src/destinations/ducklake/ducklake-errors.js';
import { DestinationError, DucktailError, StorageUnreachableError } from '../../../src/errors.js';
import type { DuckLakeDestinationSpec } from '../../../src/model/pipeline-spec.js';

/** DuckDB's own texts (httpfs of DuckDB 1.5.5), provoked against a local S3 server (moto), with its port and bucket names. */
const TEXT = {
  noBucketWrite: 'HTTP Error: Unable to connect to URL s3://lakebucket/lake/f.parquet: Not Found (HTTP code 404)\n\nNoSuchBucket: The specified bucket does not exist',
  noBucketRead: "HTTP Error: HTTP GET error reading 's3://lakebucket/lake/f.parquet' in region 'us-east-1' (HTTP 404 Not Found)",
  noKeyRead: "HTTP Error: HTTP GET error reading 's3://lakebucket/lake/missing.parquet' in region 'us-east-1' (HTTP 404 Not Found)",
  badKeyIdWrite: 'HTTP Error: Unable to connect to URL s3://lakebucket/lake/f.parquet: Forbidden (HTTP code 403)\n\nInvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records.',
  badSecretRead:
    "HTTP Error: HTTP GET error reading 'http://127.0.0.1:45123/lakebucket/lake/f.parquet' in region 'us-east-1' (HTTP 403 Forbidden)\n\n" +
    'SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method.\n\n' +
    'Authentication Failure - this is usually caused by invalid or missing credentials.\n* Credentials are provided, but they did not work.\n* See https://duckdb.org/docs/stable/extensions/httpfs/s3api.html',
  deniedWrite: 'HTTP Error: Unable to connect to URL s3://lakebucket/lake/f.parquet: Forbidden (HTTP code 403)\n\nAccessDenied: Access Denied',
  endpointDown: "IO Error: Could not connect to server error for HTTP PUT to 'http://127.0.0.1:1/lakebucket/lake/f.parquet'",
};

const lake: DuckLakeDestinationSpec = {
  kind: 'ducklake',
  catalog: 'postgres:dbname=lake',
  dataPath: 's3://lakebucket/lake/',
  storage: { kind: 's3', endpoint: '127.0.0.1:9000', keyIdEnv: 'LAKE_KEY_ID', secretEnv: 'LAKE_SECRET' },
};

describe('object-storage errors of a lake', () => {
  test('a missing bucket is a DestinationError naming the bucket and the fix', () => {
    const err = storageError(lake, TEXT.noBucketWrite);
    assert.ok(err instanceof DestinationError && err.nonRetryable);
    assert.match(err.message, /^DuckLake data path s3:\/\/lakebucket\/lake\/: the bucket s3:\/\/lakebucket does not exist on the store at 127\.0\.0\.1:9000 \(NoSuchBucket: The specified bucket does not exist\)/);
    assert.match(err.message, /fix: create the bucket lakebucket on the store at 127\.0\.0\.1:9000, or fix destination\.dataPath/);
  });

  test('refused keys (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied) name the variables, never the keys', () => {
    for (const text of [TEXT.badKeyIdWrite, TEXT.badSecretRead, TEXT.deniedWrite]) {
      const err = storageError(lake, text);
      assert.ok(err instanceof DestinationError && err.nonRetryable, text);
      assert.match(err.message, /the store at 127\.0\.0\.1:9000 refused the keys \((InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied):/);
      assert.match(err.message, /fix: check the keys in the worker's environment variables LAKE_KEY_ID, LAKE_SECRET \(a key of the store at 127\.0\.0\.1:9000 allowed to read and write s3:\/\/lakebucket\), and destination\.storage\.region and endpoint/);
    }
    const aws = storageError({ ...lake, storage: { kind: 's3', keyIdEnv: 'K', secretEnv: 'S', sessionTokenEnv: 'T' } }, TEXT.deniedWrite);
    assert.match(aws?.message ?? '', /AWS S3 refused the keys[\s\S]*variables K, S, T/);
    const noBlock = storageError({ ...lake, storage: undefined }, TEXT.badKeyIdWrite);
    assert.match(noBlock?.message ?? '', /the store refused the keys[\s\S]*fix: check the credentials DuckDB finds for s3:\/\/lakebucket/);
  });

  test('an unreachable endpoint is the retryable StorageUnreachableError', () => {
    const err = storageError(lake, TEXT.endpointDown);
    assert.ok(err instanceof StorageUnreachableError && !err.nonRetryable);
    assert.match(err.message, /^DuckLake data path s3:\/\/lakebucket\/lake\/: cannot reach the store at 127\.0\.0\.1:9000 \(IO Error: Could not connect to server error for HTTP PUT to /);
    assert.match(err.message, /fix: nothing to do if the store is down for a while: the load retries until it answers; otherwise fix destination\.storage\.endpoint/);
  });

  test('a missing data file and a read 404 without the S3 code stay unclassified (retryable)', () => {
    for (const text of [TEXT.noBucketRead, TEXT.noKeyRead, 'HTTP Error: Unable to connect to URL s3://lakebucket/x: Not Found (HTTP code 404)\n\nNoSuchKey: The specified key does not exist.']) {
      assert.equal(storageError(lake, text), null, text);
      const err = lakeError(new Error(text), [], lake);
      assert.ok(!(err instanceof DucktailError));
      assert.equal(err.message, text);
    }
  });

  test('lakeError classifies only with the destination, and hides a secret the text echoes', () => {
    assert.ok(lakeError(new Error(TEXT.noBucketWrite), [], lake) instanceof DestinationError);
    assert.ok(!(lakeError(new Error(TEXT.noBucketWrite)) instanceof DestinationError));
    const err = lakeError(new Error(`${TEXT.deniedWrite} s3cr3t`), ['s3cr3t'], lake);
    assert.ok(err instanceof DestinationError);
    assert.doesNotMatch(err.message, /s3cr3t/);
  });
});
