import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { pipelineHandle } from '../../src/temporal/pipeline-contract.js';
import { createTestLake, LAKE_SKIP, type TestLake } from '../helpers/ducklake.js';
import { E2E_DB, pgE2E } from '../helpers/pg-e2e.js';
import { startPipelineWorkflow, waitForStatus } from '../helpers/pipelines.js';
import { PG_HOST, PG_PORT, PG_USER } from '../helpers/postgres.js';
import { S3_SERVER_SKIP, startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { runCli } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';

const RUN = process.pid.toString(36);
const TQ = `e2e-lake-s3err-${RUN}`;
const PREFIX = `ducktail_e2e_s3e_${RUN}`;
const SCHEMA = `e2e_s3e_${RUN}`;
const KEY_ENV = { DUCKTAIL_E2E_S3_KEY_ID: 'AKIDUCKTAILE2E', DUCKTAIL_E2E_S3_SECRET: 'e2e-s3cret' };

/**
 * A lake on object storage that cannot work parks its pipeline in `failed` with the fix, shown by
 * `ducktail status`; a store that is down is retried, and status says so.
 */
describe('DuckLake object-storage errors in a running pipeline (real PostgreSQL, Temporal, local S3 server)', { skip: LAKE_SKIP || S3_SERVER_SKIP }, () => {
  // The in-process worker reads the key variables from this process's environment.
  Object.assign(process.env, KEY_ENV);
  const h = pgE2E({
    taskQueue: TQ,
    slotPrefix: PREFIX,
    schemaSql: `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}; CREATE TABLE ${SCHEMA}.t (id int PRIMARY KEY); INSERT INTO ${SCHEMA}.t SELECT generate_series(1, 5)`,
  });
  let s3: S3TestServer;
  const lakes: TestLake[] = [];
  let cases = 0;
  before(async () => {
    s3 = await startS3Server();
  });
  after(async () => {
    for (const lake of lakes) await lake.drop();
    await s3?.stop();
  });

  /** Writes a config for one pipeline into a fresh lake with data under `s3://bucket/lake/` on `endpoint`, and starts it as the Temporal UI would. */
  async function startLakePipeline(bucket: string, endpoint: string): Promise<{ file: string; name: string }> {
    const name = `s3e_${RUN}_${++cases}`;
    const lake = await createTestLake(`s3://${bucket}/lake/`);
    lakes.push(lake);
    const file = path.join(h.dir, `${name}.yaml`);
    await writeFile(
      file,
      stringify({
        temporal: { taskQueue: TQ },
        pipelines: [
          {
            name,
            source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: E2E_DB, tables: [`${SCHEMA}.t`], slot: `${PREFIX}_${cases}`, publication: `${PREFIX}_${cases}` },
            destination: {
              ...lake.destination,
              storage: { kind: 's3', endpoint, urlStyle: 'path', useSsl: false, region: 'us-east-1', keyIdEnv: 'DUCKTAIL_E2E_S3_KEY_ID', secretEnv: 'DUCKTAIL_E2E_S3_SECRET' },
            },
          },
        ],
      }),
    );
    const [spec] = (await loadConfig(file)).pipelines;
    assert.ok(spec);
    await startPipelineWorkflow(h.server.env.client, TQ, spec);
    return { file, name };
  }

  test('a bucket that does not exist: parks in failed with the fix; `ducktail status` shows it', { timeout: 90_000 }, async () => {
    const { file, name } = await startLakePipeline('no-such-bucket', s3.endpoint);
    const failed = await waitForStatus(h.server.env.client, name, 'parked in failed', (s) => s.phase === 'failed', 45_000);
    assert.equal(failed.lastError?.type, 'DestinationError');
    assert.match(failed.lastError?.message ?? '', /the bucket s3:\/\/no-such-bucket does not exist[\s\S]*fix: create the bucket no-such-bucket/);
    const r = await runCli(['--config', file, '--address', h.server.address, 'status'], KEY_ENV);
    assert.match(r.stdout, new RegExp(`${name}: failed[\\s\\S]*DestinationError: .*the bucket s3://no-such-bucket does not exist`), r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /e2e-s3cret/);
    await pipelineHandle(h.server.env.client, name).terminate('test done');
  });

  test('an endpoint nothing listens on: retried, and `ducktail status` shows it retrying', { timeout: 90_000 }, async () => {
    const { file, name } = await startLakePipeline('any-bucket', '127.0.0.1:1');
    const shown = await waitFor('status shows the load retrying', async () => {
      const r = await runCli(['--config', file, '--address', h.server.address, 'status'], KEY_ENV);
      return /RETRYING: [\s\S]*StorageUnreachableError: DuckLake data path s3:\/\/any-bucket\/lake\/: cannot reach the store at 127\.0\.0\.1:1/.test(r.stdout) ? r.stdout : undefined;
    }, { timeoutMs: 45_000 });
    assert.doesNotMatch(shown, new RegExp(`${name}: failed`));
    await pipelineHandle(h.server.env.client, name).terminate('test done');
  });
});
