import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lakeSecrets } from '../../../src/composition.js';
import { parseConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import { describeDestination, isLake, type DuckLakeDestinationSpec } from '../../../src/model/pipeline-spec.js';
import { LAKE_SKIP } from '../../helpers/ducklake.js';
import { S3_SERVER_SKIP, startS3Server, type S3TestServer } from '../../helpers/s3-server.js';
import { column, Harness, row, schema } from '../duckdb/duckdb-kit.js';

const ITEMS = 'shop.items';
const items = schema(ITEMS, [column('id', 'INTEGER'), column('name'), column('qty', 'INTEGER')]);
const BUCKET = 'ducktail-lake';
const KEY_ID = 'AKIDUCKTAILTEST';
const SECRET = "s3cr'et\\key";

/** The lake's destination as the config resolves it: an s3:// dataPath and a storage block naming the key variables. */
function configuredLake(endpoint: string): DuckLakeDestinationSpec {
  const config = parseConfig(
    {
      pipelines: [
        {
          name: 'objstore',
          source: { kind: 'postgres', tables: [ITEMS] },
          destination: {
            kind: 'ducklake',
            catalog: 'postgres:dbname=unused',
            dataPath: `s3://${BUCKET}/lake/`,
            storage: { kind: 's3', endpoint, urlStyle: 'path', useSsl: false, region: 'us-east-1', keyIdEnv: 'TEST_S3_KEY_ID', secretEnv: 'TEST_S3_SECRET' },
          },
        },
      ],
    },
    '/etc/ducktail/ducktail.yaml',
  );
  const destination = config.pipelines[0]!.destination;
  assert.ok(isLake(destination));
  return destination;
}

describe('DuckLake data files on S3-compatible storage', { skip: LAKE_SKIP || S3_SERVER_SKIP }, () => {
  let s3: S3TestServer;
  let h: Harness;
  let configured: DuckLakeDestinationSpec;
  before(async () => {
    s3 = await startS3Server();
    await s3.createBucket(BUCKET);
    configured = configuredLake(s3.endpoint);
    const env = { TEST_S3_KEY_ID: KEY_ID, TEST_S3_SECRET: SECRET };
    const secrets = lakeSecrets({ name: 'objstore', destination: configured } as Parameters<typeof lakeSecrets>[0], env);
    assert.ok(configured.storage !== undefined);
    h = await Harness.openLake({ dataPath: configured.dataPath, storage: configured.storage, secrets });
  });
  after(async () => {
    await h?.close();
    await s3?.stop();
  });

  test('batches load into Parquet files in the bucket and read back', async () => {
    await h.apply([items, row(ITEMS, 'insert', ['1', 'apple', '5'], '0/1'), row(ITEMS, 'insert', ['2', 'pear', '7'], '0/1')]);
    await h.apply([items, row(ITEMS, 'update', ['1', undefined, '6'], '0/2'), row(ITEMS, 'delete', ['2', undefined, undefined], '0/2')]);
    assert.deepEqual(await h.query('SELECT id, name, qty, __deleted FROM shop.items ORDER BY id'), [
      { id: 1, name: 'apple', qty: 6, __deleted: false },
      { id: 2, name: 'pear', qty: 7, __deleted: true },
    ]);
    const keys = await s3.listKeys(BUCKET, 'lake/');
    assert.ok(keys.some((k) => /^lake\/.*\.parquet$/.test(k)), `expected Parquet objects under s3://${BUCKET}/lake/, found: ${keys.join(', ')}`);
    // The lake's files are in the bucket: DuckLake lists them there.
    const [files] = await h.query("SELECT count(*)::INT AS n, bool_and(data_file LIKE 's3://ducktail-lake/lake/%') AS all_s3 FROM ducklake_list_files('lake', 'items', schema => 'shop')");
    assert.equal(files?.all_s3, true);
    assert.ok(Number(files?.n) >= 1);
  });

  test('the keys stay out of the spec; a missing key variable is a ConfigError naming it; the session holds a scoped secret', async () => {
    const text = JSON.stringify(configured) + describeDestination(configured);
    assert.doesNotMatch(text, /AKIDUCKTAILTEST|s3cr/);
    assert.match(JSON.stringify(configured.storage), /"keyIdEnv":"TEST_S3_KEY_ID","secretEnv":"TEST_S3_SECRET"/);
    assert.throws(
      () => lakeSecrets({ name: 'objstore', destination: configured } as Parameters<typeof lakeSecrets>[0], { TEST_S3_KEY_ID: KEY_ID }),
      (err: unknown) => err instanceof ConfigError && err.nonRetryable && /destination\.storage\.secretEnv names TEST_S3_SECRET, but the worker's environment has no TEST_S3_SECRET/.test(err.message),
    );
    // The session reaches the bucket through its own temporary secret (DuckDB shows no secret value).
    const secrets = await h.query('SELECT name, type, scope, secret_string FROM duckdb_secrets()');
    assert.equal(secrets.length, 1);
    assert.deepEqual({ ...secrets[0], secret_string: undefined }, { name: 'ducktail_lake_storage', type: 's3', scope: [`s3://${BUCKET}`], secret_string: undefined });
    const secretString = secrets[0]?.secret_string;
    assert.ok(typeof secretString === 'string');
    assert.match(secretString, new RegExp(`endpoint=${s3.endpoint};key_id=${KEY_ID};region=us-east-1;secret=redacted;url_style=path;use_ssl=false`));
  });
});
