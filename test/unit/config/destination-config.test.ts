import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfig, parsePipelineSpec } from '../../../src/config/load-config.js';
import { ConfigError, InvalidSpecError } from '../../../src/errors.js';
import { describeDestination, isLake } from '../../../src/model/pipeline-spec.js';

const CATALOG = 'postgres:dbname=lake host=127.0.0.1 user=postgres';

function withDestination(destination: unknown): unknown {
  return { pipelines: [{ name: 'orders', source: { kind: 'postgres', tables: ['public.orders'] }, destination }] };
}

function rejected(destination: unknown): string {
  try {
    parseConfig(withDestination(destination), '/etc/ducktail/ducktail.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the destination to be rejected');
}

function destinationOf(destination: unknown): unknown {
  return parseConfig(withDestination(destination), '/etc/ducktail/ducktail.yaml').pipelines[0]!.destination;
}

describe('destination config', () => {
  test('a DuckDB file with or without kind resolves to the same spec as before lakes existed', () => {
    assert.deepEqual(destinationOf({ path: 'out.duckdb' }), { path: '/etc/ducktail/out.duckdb' });
    assert.deepEqual(destinationOf({ kind: 'duckdb', path: 'out.duckdb' }), { path: '/etc/ducktail/out.duckdb' });
  });

  test('a lake keeps its catalog, resolves a local data path and leaves a URL as written', () => {
    assert.deepEqual(destinationOf({ kind: 'ducklake', catalog: CATALOG, dataPath: 'lake-data', passwordEnv: 'LAKE_PW' }), {
      kind: 'ducklake',
      catalog: CATALOG,
      dataPath: '/etc/ducktail/lake-data',
      passwordEnv: 'LAKE_PW',
      upkeep: { every: '1h', keepSnapshots: '7d', keepFiles: '1d' },
    });
    assert.deepEqual(destinationOf({ kind: 'ducklake', catalog: CATALOG, dataPath: 's3://bucket/lake/' }), {
      kind: 'ducklake',
      catalog: CATALOG,
      dataPath: 's3://bucket/lake/',
      upkeep: { every: '1h', keepSnapshots: '7d', keepFiles: '1d' },
    });
  });

  test('lake upkeep: defaults filled in, intervals written canonically, false turns it off, a bad interval names the fix', () => {
    const lake = { kind: 'ducklake', catalog: CATALOG, dataPath: '/d' };
    assert.deepEqual(destinationOf({ ...lake, upkeep: { every: '015m' } }), { ...lake, upkeep: { every: '15m', keepSnapshots: '7d', keepFiles: '1d' } });
    assert.deepEqual(destinationOf({ ...lake, upkeep: false }), { ...lake, upkeep: false });
    assert.match(rejected({ ...lake, upkeep: { every: 'hourly' } }), /destination\.upkeep\.every: how often upkeep runs: write a whole number and a unit/);
    assert.match(rejected({ ...lake, upkeep: { keepSnapshots: '0d' } }), /destination\.upkeep\.keepSnapshots: /);
    assert.match(rejected({ ...lake, upkeep: { keepFiles: '1d', cron: 'x' } }), /destination\.upkeep: .*cron/);
    assert.match(rejected({ ...lake, upkeep: { keepFiles: '5m' } }), /destination\.upkeep\.keepFiles: keep unused files at least 10m/);
    assert.equal((destinationOf({ ...lake, upkeep: { keepFiles: '10m' } }) as { upkeep: { keepFiles: string } }).upkeep.keepFiles, '10m');
  });

  test('names the field and the fix for a bad lake', () => {
    assert.match(rejected({ kind: 'ducklake', dataPath: '/d' }), /destination\.catalog/);
    assert.match(rejected({ kind: 'ducklake', catalog: 'sqlite:meta.db', dataPath: '/d' }), /destination\.catalog: give the DuckLake catalog as postgres:/);
    assert.match(rejected({ kind: 'ducklake', catalog: CATALOG }), /destination\.dataPath: /);
    assert.match(rejected({ kind: 'ducklake', catalog: CATALOG, dataPath: '/d', path: 'x.duckdb' }), /destination: .*path/);
    assert.match(rejected({ kind: 'lake', path: 'x.duckdb' }), /destination\.kind must be duckdb .* or ducklake/);
    assert.match(rejected({ kind: 'ducklake', catalog: CATALOG, dataPath: '/d', passwordEnv: 'not a name' }), /destination\.passwordEnv: name an environment variable/);
  });

  test('refuses a catalog password in the config without echoing it', () => {
    const message = rejected({ kind: 'ducklake', catalog: `${CATALOG} password=hunter2`, dataPath: '/d' });
    assert.match(message, /destination\.catalog: passwords never go in ducktail\.yaml.*passwordEnv/);
    assert.doesNotMatch(message, /hunter2/);
    assert.match(rejected({ kind: 'ducklake', catalog: CATALOG, dataPath: '/d', password: 'x' }), /destination\.password: passwords never go/);
  });

  test('a storage block for an s3:// lake keeps its settings and the names of the key variables', () => {
    const storage = { kind: 's3', endpoint: '127.0.0.1:9000', urlStyle: 'path', useSsl: false, region: 'eu-west-1', keyIdEnv: 'S3_KEY', secretEnv: 'S3_SECRET', sessionTokenEnv: 'S3_TOKEN' };
    assert.deepEqual(destinationOf({ kind: 'ducklake', catalog: CATALOG, dataPath: 's3://bucket/lake/', storage }), {
      kind: 'ducklake',
      catalog: CATALOG,
      dataPath: 's3://bucket/lake/',
      upkeep: { every: '1h', keepSnapshots: '7d', keepFiles: '1d' },
      storage,
    });
    const minimal = { kind: 's3', keyIdEnv: 'AWS_ACCESS_KEY_ID', secretEnv: 'AWS_SECRET_ACCESS_KEY' };
    assert.deepEqual((destinationOf({ kind: 'ducklake', catalog: CATALOG, dataPath: 's3://b/', storage: minimal }) as { storage: unknown }).storage, minimal);
  });

  test('a bad storage block names the field and the fix; keys written inline are refused without echoing them', () => {
    const lake = { kind: 'ducklake', catalog: CATALOG, dataPath: 's3://bucket/lake/' };
    const keys = { keyIdEnv: 'K', secretEnv: 'S' };
    assert.match(rejected({ ...lake, storage: { kind: 's3', secretEnv: 'S' } }), /destination\.storage\.keyIdEnv: name the environment variable holding the access key id, e\.g\. AWS_ACCESS_KEY_ID/);
    assert.match(rejected({ ...lake, storage: { kind: 's3', keyIdEnv: 'K' } }), /destination\.storage\.secretEnv: name the environment variable holding the secret key/);
    assert.match(rejected({ ...lake, storage: { kind: 'gcs', ...keys } }), /destination\.storage\.kind: destination\.storage\.kind is s3/);
    assert.match(rejected({ ...lake, storage: { kind: 's3', ...keys, endpoint: 'http://minio:9000' } }), /destination\.storage\.endpoint: give the endpoint as host or host:port, without http:\/\//);
    assert.match(rejected({ ...lake, storage: { kind: 's3', ...keys, urlStyle: 'virtual' } }), /destination\.storage\.urlStyle: urlStyle is path .* or vhost/);
    assert.match(rejected({ ...lake, storage: { kind: 's3', ...keys, useSsl: 'no' } }), /destination\.storage\.useSsl/);
    assert.match(rejected({ ...lake, storage: { kind: 's3', ...keys, secretEnv: 'my secret' } }), /destination\.storage\.secretEnv: name an environment variable/);
    assert.match(rejected({ ...lake, storage: { kind: 's3', ...keys, bucket: 'b' } }), /destination\.storage: .*bucket/);
    for (const [field, fix] of [['keyId', 'keyIdEnv'], ['secret', 'secretEnv'], ['sessionToken', 'sessionTokenEnv'], ['accessKeyId', 'keyIdEnv'], ['secretAccessKey', 'secretEnv']] as const) {
      const message = rejected({ ...lake, storage: { kind: 's3', ...keys, [field]: 'wJalrXUtnFEMI' } });
      assert.match(message, new RegExp(`destination\\.storage\\.${field}: keys never go in ducktail\\.yaml; .*destination\\.storage\\.${fix}: NAME_OF_THAT_VARIABLE`));
      assert.doesNotMatch(message, /wJalrXUtnFEMI/);
    }
    assert.match(rejected({ ...lake, dataPath: './lake-data', storage: { kind: 's3', ...keys } }), /destination\.storage: destination\.storage is for data files on S3-compatible storage: write dataPath as s3:\/\/bucket\/path\//);
    assert.throws(
      () => parsePipelineSpec({ name: 'orders', source: { kind: 'postgres', tables: ['public.orders'] }, destination: { ...lake, storage: { kind: 's3', ...keys, secret: 'x' } } }),
      InvalidSpecError,
    );
  });

  test('a lake spec typed into the Temporal UI is validated like the config', () => {
    const spec = parsePipelineSpec({ name: 'orders', source: { kind: 'postgres', tables: ['public.orders'] }, destination: { kind: 'ducklake', catalog: CATALOG, dataPath: '/d' } });
    assert.equal(describeDestination(spec.destination), `ducklake:${CATALOG} (data /d)`);
    assert.throws(
      () => parsePipelineSpec({ name: 'orders', source: { kind: 'postgres', tables: ['public.orders'] }, destination: { kind: 'ducklake', catalog: 'x', dataPath: '/d' } }),
      InvalidSpecError,
    );
  });
});

describe('examples/ducklake-minio.yaml', () => {
  test('is a valid config: a lake on MinIO, its keys named by variables', async () => {
    const file = fileURLToPath(new URL('../../../examples/ducklake-minio.yaml', import.meta.url));
    const [pipeline] = (await loadConfig(file)).pipelines;
    assert.ok(pipeline !== undefined && isLake(pipeline.destination));
    assert.equal(pipeline.destination.dataPath, 's3://lake/data/');
    assert.deepEqual(pipeline.destination.storage, {
      kind: 's3',
      endpoint: '127.0.0.1:9000',
      urlStyle: 'path',
      useSsl: false,
      keyIdEnv: 'LAKE_S3_KEY_ID',
      secretEnv: 'LAKE_S3_SECRET',
    });
    assert.equal(pipeline.destination.passwordEnv, 'LAKE_DB_PASSWORD');
  });
});
