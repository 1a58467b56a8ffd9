import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { PipelineActivities, PlacementActivities } from '../../src/activities/activity-types.js';
import type { BatchSummary } from '../../src/model/batch.js';
import type { Checkpoint } from '../../src/model/checkpoint.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { pipelineHandle } from '../../src/temporal/pipeline-contract.js';
import { workflowBundle } from '../../src/temporal/workflow-bundle.js';
import { pollingHomes } from '../../src/worker.js';
import { pgSpec, startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { testServer } from '../helpers/temporal.js';

const TQ = `wf-home-${process.pid}`;

/** Which process ran each batch activity, in order. */
type Ran = { activity: 'prepare' | 'capture' | 'load'; process: string; pipeline?: string }[];

/**
 * Activities of one worker process: every capture stages a batch; each reports the process's own
 * queue. Placement is the worker's: the live processes are the shared queue's pollers (by the
 * identity each worker gives itself), and each process counts the pipelines it has served.
 */
function processActivities(name: string, ran: Ran, connection: NativeConnection): PipelineActivities & PlacementActivities {
  const home = `${TQ}@${name}`;
  const served = new Set<string>();
  const others = (pipeline: string): number => [...served].filter((p) => p !== pipeline).length;
  let n = 0;
  const at = (i: number): Checkpoint => ({ position: { kind: 'pg', lsn: `0/${(16 + i).toString(16)}`, ackLsn: `0/${(16 + i).toString(16)}` }, batchId: `b${i}` });
  const batch = (): BatchSummary => ({ batchId: `${name}-${++n}`, spoolDir: '/nonexistent', counts: { 's.t': { insert: 1 } }, events: 1, bytes: 10, lastCommitTs: null, schemaChanges: [] });
  const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 30));
  return {
    interruptCapture: () => Promise.resolve(false),
    preparePipeline: () => {
      ran.push({ activity: 'prepare', process: name });
      return Promise.resolve({ checkpoint: at(0), warnings: [], tables: ['s.t'], home });
    },
    liveHomes: () => pollingHomes(connection, 'default', TQ),
    homeLoad: ({ pipeline }) => Promise.resolve({ home, pipelines: others(pipeline) }),
    claimHome: ({ pipeline, atMost }) => {
      const claimed = atMost === undefined || others(pipeline) <= atMost;
      if (claimed) served.add(pipeline);
      return Promise.resolve({ claimed, home, pipelines: others(pipeline) });
    },
    captureBatch: async ({ spec }) => {
      served.add(spec.name);
      ran.push({ activity: 'capture', process: name, pipeline: spec.name });
      await pause();
      return { batch: batch(), checkpoint: at(0), reachedTarget: false, position: '0/10', lagBytes: 0, home };
    },
    loadBatch: async ({ spec }) => {
      ran.push({ activity: 'load', process: name, pipeline: spec.name });
      await pause();
      return { checkpoint: at(1), skipped: false, counts: {}, position: '0/11' };
    },
    sourcePosition: () => Promise.resolve(at(0).position!),
    observeSource: () => Promise.resolve({ retention: null }),
  };
}

/** One worker process: the shared queue (workflows and activities) and its own queue (activities). */
async function workerProcess(server: DevServer, name: string, ran: Ran): Promise<{ stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: server.address });
  const activities = processActivities(name, ran, connection);
  // Eager activities stay on (the dev server's default): the worker running a workflow may take its
  // activities at once, and placement must spread the pipelines all the same.
  const shared = await Worker.create({ connection, namespace: 'default', taskQueue: TQ, workflowBundle: await workflowBundle(), activities, identity: `${TQ}@${name}` });
  const own = await Worker.create({ connection, namespace: 'default', taskQueue: `${TQ}@${name}`, activities, identity: `${TQ}@${name}` });
  const running = Promise.all([shared.run(), own.run()]);
  return {
    async stop() {
      shared.shutdown();
      own.shutdown();
      await running;
      await connection.close();
    },
  };
}

// Shutting a worker down mid-activity is on purpose: keep the SDK's warnings out of the output.
Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('pipeline workflow: a pipeline stays on the worker process that serves it (mocked activities, real Temporal dev server)', () => {
  let server: DevServer;
  const ran: Ran = [];
  const workers = new Map<string, { stop(): Promise<void> }>();

  before(async () => {
    server = await testServer();
    workers.set('A', await workerProcess(server, 'A', ran));
    workers.set('B', await workerProcess(server, 'B', ran));
  });

  after(async () => {
    for (const w of workers.values()) await w.stop();
    await server?.stop();
  });

  test('pipelines started together are spread evenly over the live worker processes', { timeout: 90_000 }, async () => {
    const dir = await tempDir('ducktail-wf-spread');
    const client = server.env.client;
    const names = ['wf_spread_1', 'wf_spread_2', 'wf_spread_3', 'wf_spread_4'];
    await Promise.all(names.map((n) => startPipelineWorkflow(client, TQ, pgSpec(n, 'unused', ['s.t'], path.join(dir, `${n}.duckdb`)))));
    const homes = await Promise.all(names.map(async (n) => (await waitForStatus(client, n, 'placed, 3 batches', (s) => s.home !== undefined && s.batches >= 3, 30_000)).home));
    const per = (p: string): number => homes.filter((h) => h === `${TQ}@${p}`).length;
    assert.deepEqual([per('A'), per('B')], [2, 2], `homes: ${homes.join(', ')}`);
    for (const n of names) {
      const worked = new Set(ran.filter((r) => r.pipeline === n).map((r) => r.process));
      assert.equal(worked.size, 1, `${n}'s captures and loads all ran on its home: ${[...worked].join(', ')}`);
    }
    await Promise.all(names.map(async (n) => {
      await pipelineHandle(client, n).cancel();
      await pipelineHandle(client, n).result();
    }));
  });

  test('captures and loads go to the process placement chose; when it is gone, another takes the pipeline over and keeps it', { timeout: 90_000 }, async () => {
    const dir = await tempDir('ducktail-wf-home');
    const client = server.env.client;
    const start = ran.length;
    await startPipelineWorkflow(client, TQ, pgSpec('wf_home', 'unused', ['s.t'], path.join(dir, 'home.duckdb')));
    const served = await waitForStatus(client, 'wf_home', '20 batches', (s) => s.batches >= 20, 30_000);
    const mine = ran.slice(start).filter((r) => r.pipeline === 'wf_home');
    const first = mine[0]!.process;
    assert.equal(mine[0]!.activity, 'capture');
    assert.equal(served.home, `${TQ}@${first}`, 'status names the worker serving the pipeline');
    const elsewhere = mine.filter((r) => r.process !== first);
    // With two processes polling the shared queue, about half the batch activities would land on each.
    assert.deepEqual(elsewhere, [], `every capture and load ran on ${first}`);

    const other = first === 'A' ? 'B' : 'A';
    const before = ran.length;
    const stoppedAt = Date.now();
    await workers.get(first)!.stop();
    workers.delete(first);
    const moved = await waitForStatus(client, 'wf_home', 'moved to the other process', (s) => s.home === `${TQ}@${other}` && s.batches >= served.batches + 20, 60_000);
    assert.ok(moved.lastError === null, JSON.stringify(moved.lastError));
    const after = ran.slice(before).filter((r) => r.process === first && r.pipeline === 'wf_home');
    assert.ok(after.every((r) => r.activity !== 'load') && after.length <= 1, `after its stop, ${first} ran nothing but the capture it was cancelled in: ${JSON.stringify(after)}`);
    assert.ok(Date.now() - stoppedAt < 45_000, 'taken over within the home wait');
    await pipelineHandle(client, 'wf_home').cancel();
    assert.equal((await pipelineHandle(client, 'wf_home').result()).phase, 'stopped');
  });
});
