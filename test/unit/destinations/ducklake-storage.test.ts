import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lakeSecrets } from '../../../src/composition.js';
import { lakeError } from '../../../src/destinations/ducklake/ducklake-errors.js';
import { createSecretSql, isRemoteDataPath, s3Bucket } from '../../../src/destinations/ducklake/ducklake-storage.js';
import { ConfigError } from '../../../src/errors.js';
import type { DuckLakeDestinationSpec, PipelineSpec } from '../../../src/model/pipeline-spec.js';

const storage = { kind: 's3' as const, keyIdEnv: 'S3_KEY', secretEnv: 'S3_SECRET' };
const lake = (extra: Partial<DuckLakeDestinationSpec> = {}): DuckLakeDestinationSpec => ({
  kind: 'ducklake',
  catalog: 'postgres:dbname=lake',
  dataPath: 's3://my-bucket/lake/',
  storage,
  ...extra,
});
const spec = (destination: DuckLakeDestinationSpec): PipelineSpec => ({ name: 'orders', destination } as unknown as PipelineSpec);

describe('lake data on object storage', () => {
  test('remote data paths load httpfs; the secret is scoped to the s3 bucket', () => {
    for (const p of ['s3://b/lake/', 'S3://b', 'gs://b/x', 'r2://b/x', 'https://host/x']) assert.ok(isRemoteDataPath(p), p);
    for (const p of ['/var/lake', './lake-data', 'C:\\lake', 'file:///x']) assert.ok(!isRemoteDataPath(p), p);
    assert.equal(s3Bucket('s3://my-bucket/lake/'), 's3://my-bucket');
    assert.equal(s3Bucket('s3://my-bucket'), 's3://my-bucket');
    assert.equal(s3Bucket('gs://my-bucket/lake'), null);
  });

  test('CREATE TEMPORARY SECRET carries every setting given, each value a quoted literal', () => {
    assert.equal(
      createSecretSql(lake(), { keyId: 'AK', secret: 'sk' }),
      `CREATE OR REPLACE TEMPORARY SECRET "ducktail_lake_storage" (TYPE s3, KEY_ID 'AK', SECRET 'sk', SCOPE 's3://my-bucket')`,
    );
    const full = lake({ storage: { ...storage, region: "eu-'west", endpoint: '127.0.0.1:9000', urlStyle: 'path', useSsl: false, sessionTokenEnv: 'T' } });
    assert.equal(
      createSecretSql(full, { keyId: "a'k", secret: "s'e\\c'; DROP", sessionToken: "t'" }),
      `CREATE OR REPLACE TEMPORARY SECRET "ducktail_lake_storage" (TYPE s3, KEY_ID 'a''k', SECRET 's''e\\c''; DROP', SESSION_TOKEN 't''', ` +
        `REGION 'eu-''west', ENDPOINT '127.0.0.1:9000', URL_STYLE 'path', USE_SSL false, SCOPE 's3://my-bucket')`,
    );
    assert.match(createSecretSql(lake({ storage: { ...storage, useSsl: true } }), { keyId: 'a', secret: 'b' }) ?? '', /USE_SSL true, SCOPE/);
    assert.equal(createSecretSql(lake({ storage: undefined }), undefined), null);
    assert.throws(() => createSecretSql(lake(), undefined), /were not read from the environment/);
  });

  test('the keys come from the variables the spec names; a missing one is a non-retryable ConfigError naming it', () => {
    const env = { S3_KEY: 'AKIA', S3_SECRET: 'wJalr', LAKE_PW: 'pw' };
    assert.deepEqual(lakeSecrets(spec(lake()), env), { storageKeys: { keyId: 'AKIA', secret: 'wJalr' } });
    assert.deepEqual(lakeSecrets(spec(lake({ passwordEnv: 'LAKE_PW', storage: { ...storage, sessionTokenEnv: 'S3_KEY' } })), env), {
      password: 'pw',
      storageKeys: { keyId: 'AKIA', secret: 'wJalr', sessionToken: 'AKIA' },
    });
    assert.deepEqual(lakeSecrets(spec(lake({ storage: undefined })), env), {});
    for (const [missing, field] of [['S3_KEY', 'keyIdEnv'], ['S3_SECRET', 'secretEnv']] as const) {
      const partial: Record<string, string> = { ...env };
      delete partial[missing];
      assert.throws(
        () => lakeSecrets(spec(lake()), partial),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.equal(err.nonRetryable, true);
          assert.match(err.message, new RegExp(`destination\\.storage\\.${field} names ${missing}, but the worker's environment has no ${missing}`));
          assert.doesNotMatch(err.message, /wJalr|AKIA/);
          return true;
        },
      );
    }
  });

  test('an error echoing the CREATE SECRET statement has the secret and token hidden', () => {
    const sql = createSecretSql(lake({ storage: { ...storage, sessionTokenEnv: 'T' } }), { keyId: 'AK', secret: "s'cr\\et", sessionToken: 'tok3n' }) ?? '';
    const hidden = lakeError(new Error(`Parser Error: near ${sql}`), ["s'cr\\et", 'tok3n']).message;
    assert.doesNotMatch(hidden, /cr\\et|tok3n/);
    assert.match(hidden, /SECRET '\*\*\*', SESSION_TOKEN '\*\*\*'/);
  });
});
