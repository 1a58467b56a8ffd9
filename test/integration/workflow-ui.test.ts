import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { PipelineActivities } from '../../src/activities/activity-types.js';
import { asActivity } from '../../src/activities/to-failure.js';
import { parsePipelineSpec } from '../../src/config/load-config.js';
import { BadValueError } from '../../src/errors.js';
import type { BatchSummary } from '../../src/model/batch.js';
import type { Checkpoint } from '../../src/model/checkpoint.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { PIPELINE_WORKFLOW_TYPE, pauseSignal, pipelineHandle, resumeSignal, startPipelineWorkflow as startWorkflow, workflowId } from '../../src/temporal/pipeline-contract.js';
import { pipelineSearchAttributes, registeredPipelineAttributes } from '../../src/temporal/search-attributes.js';
import { workflowBundle } from '../../src/temporal/workflow-bundle.js';
import { PHASE_KEY, PIPELINE_KEY, SOURCE_KEY } from '../../src/workflows/search-attributes.js';
import { pgSpec, startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { testServer } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';

const TQ = `wf-ui-${process.pid}`;

/** A fake pipeline: batches it gives (3 tables each), and whether its loads fail. */
interface Fake {
  available: number;
  loaded: number;
  failLoads: boolean;
}

const at = (n: number): Checkpoint => ({ position: { kind: 'pg', lsn: `0/${(16 * (n + 1)).toString(16)}`, ackLsn: `0/${(16 * (n + 1)).toString(16)}` }, batchId: `b${n}` });

/** Activities standing in for a source and DuckDB; prepare validates the input as the real one does. */
function fakeActivities(fakes: Map<string, Fake>): PipelineActivities {
  const fake = (name: string): Fake => fakes.get(name) ?? { available: 0, loaded: 0, failLoads: false };
  return {
    preparePipeline: (input) =>
      asActivity(() => {
        const spec = parsePipelineSpec(input.spec);
        return Promise.resolve({ checkpoint: at(0), warnings: [], tables: ['s.a', 's.b', 's.c'], spec });
      }),
    sourcePosition: () => asActivity(() => Promise.resolve(at(0).position!)),
    interruptCapture: () => Promise.resolve(false),
    observeSource: () => Promise.resolve({ retention: null }),
    captureBatch: ({ spec }) =>
      asActivity(async () => {
        const f = fake(spec.name);
        const position = `0/${(16 * (f.loaded + 1)).toString(16)}`;
        if (f.loaded >= f.available) {
          await new Promise((r) => setTimeout(r, 100));
          return { batch: null, checkpoint: at(f.loaded), reachedTarget: false, position, lagBytes: 4096 };
        }
        const batch: BatchSummary = {
          batchId: `b${f.loaded + 1}`, spoolDir: '/nonexistent', counts: { 's.a': { insert: 98_000 }, 's.b': { update: 300 }, 's.c': { delete: 4 } },
          events: 98_304, bytes: 1000, lastCommitTs: new Date().toISOString(), schemaChanges: [],
        };
        return { batch, checkpoint: at(f.loaded), reachedTarget: false, position, lagBytes: 4096 };
      }),
    loadBatch: ({ spec }) =>
      asActivity(() => {
        const f = fake(spec.name);
        if (f.failLoads) throw new BadValueError('loading s.a: value out of range', 'fix the value at the source');
        f.loaded++;
        const to = at(f.loaded);
        return Promise.resolve({ checkpoint: to, skipped: false, counts: {}, position: `0/${(16 * (f.loaded + 1)).toString(16)}` });
      }),
  };
}

/** The workflow's current details, as the Temporal UI reads them (the built-in metadata query). */
async function currentDetails(handle: WorkflowHandle): Promise<string> {
  const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return meta.currentDetails ?? '';
}

/** The summaries of the activities the workflow scheduled, in order. */
async function activitySummaries(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes != null)
    .map((e) => (e.userMetadata?.summary == null ? '' : defaultPayloadConverter.fromPayload<string>(e.userMetadata.summary)));
}

/** Upserts of Ducktail's search attributes (not the SDK's own `TemporalChangeVersion`, which a patch marker sets). */
async function upserts(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => {
    const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    return fields != null && Object.keys(fields).some((k) => k.startsWith('Ducktail'));
  }).length;
}

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('pipeline workflow in the Temporal UI: current details, activity summaries, search attributes, invalid input (mocked activities, real dev server)', () => {
  let server: DevServer;
  let worker: Worker;
  let running: Promise<void>;
  let dir: string;
  const fakes = new Map<string, Fake>();

  before(async () => {
    server = await testServer({ searchAttributes: true });
    dir = await tempDir('ducktail-wf-ui');
    worker = await Worker.create({
      connection: server.env.nativeConnection,
      namespace: 'default',
      taskQueue: TQ,
      workflowBundle: await workflowBundle(),
      activities: fakeActivities(fakes),
    });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await server?.stop();
  });

  const client = () => server.env.client;
  const spec = (name: string) => pgSpec(name, 'shop', ['s.*'], path.join(dir, `${name}.duckdb`));

  test('details tell phase, position, lag and last batch; activities carry summaries; a parked pipeline shows its error and fix, and DucktailPhase follows with one upsert per phase change', { timeout: 60_000 }, async () => {
    const f: Fake = { available: 3, loaded: 0, failLoads: false };
    fakes.set('wf_ui', f);
    const attributes = await pipelineSearchAttributes(client(), spec('wf_ui'));
    assert.deepEqual(attributes.map((a) => [a.key.name, a.value]), [['DucktailPipeline', 'wf_ui'], ['DucktailSource', 'postgres'], ['DucktailPhase', 'starting']]);
    // Continue as new every 2 batches: the attributes go on to the next run.
    await startWorkflow(client(), TQ, { spec: spec('wf_ui') }, { batchesPerRun: 2, searchAttributes: attributes });
    const handle = pipelineHandle(client(), 'wf_ui');
    await waitForStatus(client(), 'wf_ui', '3 batches loaded', (s) => s.batches === 3 && s.phase === 'streaming');
    assert.equal((await handle.describe()).typedSearchAttributes.get(PHASE_KEY), 'streaming');

    const streaming = await currentDetails(handle);
    assert.match(streaming, /\*\*Phase:\*\* streaming/);
    assert.match(streaming, /\*\*Replicates:\*\* postgres:\/\/postgres@127\.0\.0\.1:5432\/shop → .*wf_ui\.duckdb \(merge\)/);
    assert.match(streaming, /\*\*Position:\*\* 0\/40/);
    assert.match(streaming, /\*\*Lag:\*\* \d+\.\d s, 4,096 bytes of log/);
    assert.match(streaming, /\*\*Last batch:\*\* \d{4}-\d\d-\d\dT[\d:.]+Z, 98,304 changes/);
    assert.match(streaming, /\*\*Loaded:\*\* 3 batches, 294,912 changes/);
    assert.doesNotMatch(streaming, /Failed|Last error/);

    // This run (the second) scheduled captures and one load; the first run's are in its own history.
    const first = client().workflow.getHandle(workflowId('wf_ui'), (await handle.describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined);
    const summaries = await activitySummaries(first);
    assert.deepEqual(summaries.slice(0, 5), [
      'check the input, the source and the destination',
      // These workers run no placement: the first capture's worker becomes the home.
      'find the live workers, to place the pipeline on the least busy',
      'capture batch 1 from the checkpoint',
      'batch 1: 98,304 changes, 3 tables',
      'capture batch 2 from 0/20',
    ]);
    assert.ok((await activitySummaries(handle)).includes('batch 3: 98,304 changes, 3 tables'));

    await handle.signal(pauseSignal);
    await waitForStatus(client(), 'wf_ui', 'paused', (s) => s.phase === 'paused');
    assert.match(await currentDetails(handle), /^### Paused\n\nSend the signal `resume` \(or `ducktail resume wf_ui`\)/);
    await waitFor('DucktailPhase paused', async () => ((await handle.describe()).typedSearchAttributes.get(PHASE_KEY) === 'paused' ? true : undefined));

    f.failLoads = true;
    f.available = 4;
    await handle.signal(resumeSignal);
    await waitForStatus(client(), 'wf_ui', 'parked in failed', (s) => s.phase === 'failed');
    const failed = await currentDetails(handle);
    assert.match(failed, /^### Failed: BadValueError\n\nThe pipeline is parked until the cause is fixed; then send the signal `resume` \(or `ducktail resume wf_ui`\)/);
    assert.match(failed, /\*\*Last error\*\* \([^)]+\):\n\n```\nloading s\.a: value out of range\n {2}fix: fix the value at the source\n```/);
    assert.match(failed, /\*\*Phase:\*\* failed/);
    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(PHASE_KEY), 'failed');
    assert.equal(description.typedSearchAttributes.get(PIPELINE_KEY), 'wf_ui');
    assert.equal(description.typedSearchAttributes.get(SOURCE_KEY), 'postgres');
    // The parked pipeline is found from the workflow list.
    const listed: string[] = [];
    await waitFor('the list filter finds it', async () => {
      listed.length = 0;
      for await (const w of client().workflow.list({ query: `DucktailPhase = "failed"` })) listed.push(w.workflowId);
      return listed.includes(workflowId('wf_ui')) ? true : undefined;
    });

    // Phases this run went through: streaming → paused → streaming → failed (the start set `starting`, the first run moved it on).
    assert.equal(await upserts(handle), 3, 'one upsert per phase change, none per batch');
    await handle.cancel();
    assert.equal((await handle.result()).phase, 'stopped');
    assert.equal((await handle.describe()).typedSearchAttributes.get(PHASE_KEY), 'stopped');
    assert.match(await currentDetails(handle), /\*\*Phase:\*\* stopped/);
  });

  test('a workflow started without the search attributes never upserts them', { timeout: 30_000 }, async () => {
    fakes.set('wf_ui_plain', { available: 2, loaded: 0, failLoads: false });
    await startPipelineWorkflow(client(), TQ, spec('wf_ui_plain'));
    const handle = pipelineHandle(client(), 'wf_ui_plain');
    await waitForStatus(client(), 'wf_ui_plain', '2 batches loaded', (s) => s.batches === 2);
    await handle.signal(pauseSignal);
    await waitForStatus(client(), 'wf_ui_plain', 'paused', (s) => s.phase === 'paused');
    assert.match(await currentDetails(handle), /### Paused/);
    assert.equal(await upserts(handle), 0);
    assert.equal((await handle.describe()).typedSearchAttributes.get(PHASE_KEY), undefined);
    await handle.cancel();
    await handle.result();
  });

  test('an invalid input fails the run with the validation error (non-retryable), not a parked RUNNING workflow', { timeout: 30_000 }, async () => {
    const cases: [string, unknown, RegExp][] = [
      ['wf_ui_bad_spec', { spec: { name: 'wf_ui_bad_spec', source: { kind: 'postgres', tables: ['no_schema'] }, destination: { path: '/tmp/x.duckdb' } } }, /invalid pipeline spec:\n {2}source\.tables\[0\]: write tables as schema\.table[\s\S]*fix: correct the workflow input and start the workflow again/],
      ['wf_ui_bare_spec', { name: 'wf_ui_bare_spec', source: { kind: 'postgres', tables: ['s.t'] }, destination: { path: '/tmp/x.duckdb' } }, /the pipeline spec must be under "spec"/],
      ['wf_ui_null', null, /expected a JSON object, got null/],
    ];
    for (const [id, input, message] of cases) {
      const handle = await client().workflow.start(PIPELINE_WORKFLOW_TYPE, { taskQueue: TQ, workflowId: workflowId(id), args: [input] });
      const err = await handle.result().then(() => assert.fail(`${id}: the run should fail`), (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError, `${id}: ${String(err)}`);
      assert.ok(err.cause instanceof ApplicationFailure, `${id}: ${String(err.cause)}`);
      assert.equal(err.cause.type, 'InvalidSpecError', id);
      assert.equal(err.cause.nonRetryable, true, id);
      assert.match(err.cause.message, message, id);
      assert.equal((await handle.describe()).status.name, 'FAILED', id);
    }
  });

  test('a server without the search attributes: none are set at start', { timeout: 30_000 }, async () => {
    const plain = await testServer();
    try {
      assert.deepEqual([...(await registeredPipelineAttributes(plain.env.client))], []);
      assert.deepEqual(await pipelineSearchAttributes(plain.env.client, spec('wf_ui_none')), []);
    } finally {
      await plain.stop();
    }
    assert.deepEqual([...(await registeredPipelineAttributes(client()))].sort(), ['DucktailPhase', 'DucktailPipeline', 'DucktailSource']);
  });
});
