import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { PipelineActivities } from '../../src/activities/activity-types.js';
import { asActivity } from '../../src/activities/to-failure.js';
import type { BatchSummary, OpCounts } from '../../src/model/batch.js';
import type { Checkpoint } from '../../src/model/checkpoint.js';
import type { PipelineSpec } from '../../src/model/pipeline-spec.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { pauseSignal, pipelineHandle, resumeSignal } from '../../src/temporal/pipeline-contract.js';
import { workflowBundle } from '../../src/temporal/workflow-bundle.js';
import { mysqlSpec } from '../helpers/mysql.js';
import { pgSpec, pipelineStatus, startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { testServer } from '../helpers/temporal.js';

const TQ = `wf-status-${process.pid}`;

/** One batch the fake source gives, and what its load reports. */
interface FakeBatch {
  /** The checkpoint once it is loaded. */
  to: Checkpoint;
  counts: Record<string, OpCounts>;
  events: number;
  lastCommitTs?: string;
  schemaChanges?: string[];
  /** The durable position the load reports, formatted. */
  position?: string;
  resync?: string[];
}

/** A fake source and DuckDB file for one pipeline, driven by its test. */
interface Source {
  prepared: Checkpoint;
  warnings: string[];
  batches: FakeBatch[];
  /** How many of `batches` the source has written so far: captures give no more. */
  available: number;
  /**
   * With nothing new, a capture returns empty at once (true) or holds until a batch is available
   * (false; at most 10 s, well inside the heartbeat timeout), so the status between steps can be read.
   */
  idleReturns: boolean;
  /** What an empty capture reports. */
  idle: { position: string; lagBytes: number };
  /** Set by the fake: the checkpoint of the last load, the captures asked for, the batches loaded. */
  durable: Checkpoint;
  captures: number;
  loads: string[];
}

function newSource(source: Partial<Source> & Pick<Source, 'prepared' | 'batches'>): Source {
  return {
    warnings: [],
    available: 0,
    idleReturns: true,
    idle: { position: 'idle', lagBytes: 0 },
    durable: source.prepared,
    captures: 0,
    loads: [],
    ...source,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Activities that stand in for a source and DuckDB, each pipeline's as its `Source` says. */
function fakeActivities(sources: Map<string, Source>): PipelineActivities {
  const source = (name: string): Source => {
    const s = sources.get(name);
    if (s === undefined) throw new Error(`no fake source for pipeline ${name}`);
    return s;
  };
  return {
    interruptCapture: () => Promise.resolve(false),
    preparePipeline: ({ spec }) => asActivity(() => Promise.resolve({ checkpoint: source(spec.name).prepared, warnings: source(spec.name).warnings, tables: ['s.t'] })),
    sourcePosition: ({ spec }) => asActivity(() => Promise.resolve(source(spec.name).prepared.position!)),
    observeSource: () => Promise.resolve({ retention: null }),
    captureBatch: ({ spec }) =>
      asActivity(async () => {
        const s = source(spec.name);
        s.captures++;
        const nothingNew = () => s.loads.length >= Math.min(s.available, s.batches.length);
        const until = Date.now() + 10_000;
        while (nothingNew() && !s.idleReturns && Date.now() < until) await sleep(50);
        if (nothingNew()) {
          await sleep(100);
          return { batch: null, checkpoint: s.durable, reachedTarget: false, position: s.idle.position, lagBytes: s.idle.lagBytes };
        }
        const n = s.loads.length;
        const next = s.batches[n]!;
        const batch: BatchSummary = {
          batchId: `b${n + 1}`, spoolDir: '/nonexistent', counts: next.counts, events: next.events,
          bytes: 100, lastCommitTs: next.lastCommitTs ?? null, schemaChanges: next.schemaChanges ?? [],
        };
        return { batch, checkpoint: s.durable, reachedTarget: false, position: null, lagBytes: null };
      }),
    loadBatch: ({ spec, batch }) =>
      asActivity(() => {
        const s = source(spec.name);
        const loaded = s.batches[s.loads.length]!;
        s.loads.push(batch.batchId);
        s.durable = loaded.to;
        return Promise.resolve({ checkpoint: loaded.to, skipped: false, counts: batch.counts, position: loaded.position ?? null, resync: loaded.resync });
      }),
  };
}

function pgAt(n: number): Checkpoint['position'] {
  const lsn = `0/${(16 * (n + 1)).toString(16).toUpperCase()}`;
  return { kind: 'pg', lsn, ackLsn: lsn };
}

/** Plain streaming batches 1..n (inserts into s.t). */
function streamed(n: number): FakeBatch[] {
  return Array.from({ length: n }, (_, i) => ({ to: { position: pgAt(i + 1), batchId: `b${i + 1}` }, counts: { 's.t': { insert: 10 } }, events: 10 }));
}

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('pipeline workflow: pause and resume, snapshot phase, and what status reports (mocked activities, real Temporal dev server)', () => {
  let server: DevServer;
  let worker: Worker;
  let running: Promise<void>;
  let dir: string;
  const sources = new Map<string, Source>();

  before(async () => {
    server = await testServer();
    dir = await tempDir('ducktail-wf-status');
    worker = await Worker.create({
      connection: server.env.nativeConnection,
      namespace: 'default',
      taskQueue: TQ,
      workflowBundle: await workflowBundle(),
      activities: fakeActivities(sources),
    });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await server?.stop();
  });

  const spec = (name: string): PipelineSpec => pgSpec(name, 'unused', ['s.t'], path.join(dir, `${name}.duckdb`));
  const client = () => server.env.client;

  test('pause while streaming: the batch in flight is loaded, then nothing is captured until resume, which continues in order', { timeout: 60_000 }, async () => {
    // With nothing new a capture holds: the pause arrives while the step after b1 is in progress.
    const s = newSource({ prepared: { position: pgAt(0), batchId: '' }, batches: streamed(4), available: 1, idleReturns: false });
    sources.set('wf_pause', s);
    const handle = pipelineHandle(client(), 'wf_pause');
    await startPipelineWorkflow(client(), TQ, spec('wf_pause'));
    await waitForStatus(client(), 'wf_pause', 'b1 loaded', (st) => st.batches === 1);
    await waitForStatus(client(), 'wf_pause', 'capturing', (st) => st.step?.activity === 'captureBatch');
    await handle.signal(pauseSignal);
    const pausing = await waitForStatus(client(), 'wf_pause', 'the pause seen', (st) => st.paused);
    assert.equal(pausing.phase, 'streaming', 'the step in progress goes on');
    s.available = 2;
    const paused = await waitForStatus(client(), 'wf_pause', 'paused', (st) => st.phase === 'paused');
    assert.deepEqual(s.loads, ['b1', 'b2'], 'the batch captured before the pause took effect is loaded');
    assert.equal(paused.batches, 2);
    assert.equal(paused.step, null);

    const capturesWhenPaused = s.captures;
    s.available = 4;
    s.idleReturns = true;
    await sleep(1500);
    const still = await pipelineStatus(client(), 'wf_pause');
    assert.equal(still.phase, 'paused');
    assert.equal(still.batches, 2);
    assert.equal(s.captures, capturesWhenPaused, 'nothing is captured while paused');

    await handle.signal(resumeSignal);
    const resumed = await waitForStatus(client(), 'wf_pause', 'the rest loaded after resume', (st) => st.batches === 4);
    assert.equal(resumed.phase, 'streaming');
    assert.equal(resumed.paused, false);
    assert.deepEqual(s.loads, ['b1', 'b2', 'b3', 'b4']);
    assert.deepEqual(resumed.checkpoint, { position: pgAt(4), batchId: 'b4' });
    await handle.cancel();
    assert.equal((await handle.result()).phase, 'stopped');
  });

  test('a Temporal cancel while paused stops at once, without capturing again', { timeout: 60_000 }, async () => {
    const s = newSource({ prepared: { position: pgAt(0), batchId: '' }, batches: streamed(3), available: 1 });
    sources.set('wf_pause_cancel', s);
    const handle = pipelineHandle(client(), 'wf_pause_cancel');
    await startPipelineWorkflow(client(), TQ, spec('wf_pause_cancel'));
    await waitForStatus(client(), 'wf_pause_cancel', 'b1 loaded', (st) => st.batches === 1);
    await handle.signal(pauseSignal);
    await waitForStatus(client(), 'wf_pause_cancel', 'paused', (st) => st.phase === 'paused');
    const captures = s.captures;
    s.available = 3;

    const cancelledAt = Date.now();
    await handle.cancel();
    const result = await handle.result();
    assert.ok(Date.now() - cancelledAt < 5_000, `stopped at once (${Date.now() - cancelledAt} ms)`);
    assert.equal(result.phase, 'stopped');
    assert.equal(result.batches, 1);
    assert.equal(s.captures, captures, 'nothing captured after the cancel');
    assert.deepEqual(s.loads, ['b1']);
  });

  test('while the checkpoint holds snapshot progress the phase is snapshot with tables and rows copied; streaming once the copy is done', { timeout: 60_000 }, async () => {
    const table = (name: string, done: boolean, rows: number) => ({ table: name, done, rows });
    const snapshot = (a: [boolean, number], b: [boolean, number]) => ({
      startPosition: pgAt(0)!, tables: [table('s.a', ...a), table('s.b', ...b)], consistent: true,
    });
    const s = newSource({
      prepared: { position: null, snapshot: snapshot([false, 0], [false, 0]), batchId: '' },
      batches: [
        { to: { position: null, snapshot: snapshot([true, 150], [false, 0]), batchId: 'b1' }, counts: { 's.a': { snapshot: 150 } }, events: 150 },
        { to: { position: null, snapshot: snapshot([true, 150], [false, 30]), batchId: 'b2' }, counts: { 's.b': { snapshot: 30 } }, events: 30 },
        { to: { position: pgAt(0), batchId: 'b3' }, counts: { 's.b': { snapshot: 10 } }, events: 10 },
        { to: { position: pgAt(1), batchId: 'b4' }, counts: { 's.a': { insert: 1 } }, events: 1 },
      ],
    });
    sources.set('wf_snapshot', s);
    await startPipelineWorkflow(client(), TQ, spec('wf_snapshot'));
    const starting = await waitForStatus(client(), 'wf_snapshot', 'snapshot phase', (st) => st.phase === 'snapshot');
    assert.equal(starting.snapshotProgress, '0/2 tables, 0 rows copied');

    s.available = 1;
    const first = await waitForStatus(client(), 'wf_snapshot', 'b1 loaded', (st) => st.batches === 1);
    assert.equal(first.phase, 'snapshot');
    assert.equal(first.snapshotProgress, '1/2 tables, 150 rows copied');
    s.available = 2;
    const second = await waitForStatus(client(), 'wf_snapshot', 'b2 loaded', (st) => st.batches === 2);
    assert.equal(second.phase, 'snapshot');
    assert.equal(second.snapshotProgress, '1/2 tables, 180 rows copied');

    s.available = 3;
    const copied = await waitForStatus(client(), 'wf_snapshot', 'b3 loaded', (st) => st.batches === 3);
    assert.equal(copied.phase, 'streaming');
    assert.equal(copied.snapshotProgress, undefined);
    assert.equal(copied.checkpoint?.snapshot, undefined);
    s.available = 4;
    const streaming = await waitForStatus(client(), 'wf_snapshot', 'b4 loaded', (st) => st.batches === 4);
    assert.equal(streaming.phase, 'streaming');
    assert.deepEqual(streaming.counts, { 's.a': { snapshot: 150, insert: 1 }, 's.b': { snapshot: 40 } });
    assert.equal(streaming.events, 191);
    const handle = pipelineHandle(client(), 'wf_snapshot');
    await handle.cancel();
    assert.equal((await handle.result()).phase, 'stopped');
  });

  test('status: lag from the newest commit loaded (0 when idle), position and lag bytes from the latest step, the newest 20 schema changes, the re-sync list of the latest load that reported one', { timeout: 60_000 }, async () => {
    const my = (pos: number): Checkpoint['position'] => ({ kind: 'mysql', file: 'bin.000001', pos });
    const first = Array.from({ length: 15 }, (_, i) => `first ${i}`);
    const second = Array.from({ length: 10 }, (_, i) => `second ${i}`);
    const resync = ['s.t: column c was added with a volatile default; re-sync s.t'];
    const s = newSource({
      prepared: { position: my(4), batchId: '' },
      warnings: ['s.log has no primary key: it is appended'],
      batches: [
        { to: { position: my(100), batchId: 'b1' }, counts: { 's.t': { insert: 3 } }, events: 3, lastCommitTs: '2020-01-01T00:00:00.000Z', schemaChanges: first, position: 'bin.000001:100', resync },
        { to: { position: my(200), batchId: 'b2' }, counts: { 's.t': { update: 2 } }, events: 2, schemaChanges: second, position: 'bin.000001:200' },
        { to: { position: my(300), batchId: 'b3' }, counts: { 's.t': { delete: 1 } }, events: 1, lastCommitTs: '2021-06-01T00:00:00.000Z', position: 'bin.000001:300', resync: [] },
      ],
      idleReturns: false,
      idle: { position: 'bin.000001:300 (idle)', lagBytes: 42 },
    });
    sources.set('wf_fields', s);
    const file = path.join(dir, 'fields.duckdb');
    await startPipelineWorkflow(client(), TQ, mysqlSpec('wf_fields', ['s.t'], file, { mode: 'append' }));

    s.available = 1;
    const one = await waitForStatus(client(), 'wf_fields', 'b1 loaded', (st) => st.batches === 1);
    assert.equal(one.pipeline, 'wf_fields');
    assert.equal(one.mode, 'append');
    assert.match(one.source, /^mysql:\/\/\w+@[\w.]+:\d+$/);
    assert.equal(one.destination, file);
    assert.deepEqual(one.warnings, ['s.log has no primary key: it is appended']);
    assert.equal(one.runs, 1);
    assert.equal(one.catchUpTarget, null);
    assert.equal(one.lastCommitTs, '2020-01-01T00:00:00.000Z');
    const expectedLag = (Date.now() - Date.parse('2020-01-01T00:00:00.000Z')) / 1000;
    assert.ok(Math.abs((one.lagSeconds ?? 0) - expectedLag) < 120, `lag from the commit time (${one.lagSeconds} s, about ${expectedLag} s)`);
    assert.equal(one.position, 'bin.000001:100');
    assert.deepEqual(one.schemaChanges, first);
    assert.deepEqual(one.resync, resync);
    assert.ok(one.lastBatchAt !== null);

    s.available = 2;
    const two = await waitForStatus(client(), 'wf_fields', 'b2 loaded', (st) => st.batches === 2);
    assert.deepEqual(two.schemaChanges, [...first.slice(5), ...second], 'the newest 20, oldest first');
    assert.deepEqual(two.resync, resync, 'a load that reports nothing keeps the list');
    assert.equal(two.lastCommitTs, '2020-01-01T00:00:00.000Z', 'a batch without a commit time keeps the last one');
    assert.equal(two.lagSeconds, one.lagSeconds);
    assert.equal(two.position, 'bin.000001:200');

    s.available = 3;
    const three = await waitForStatus(client(), 'wf_fields', 'b3 loaded', (st) => st.batches === 3);
    assert.deepEqual(three.resync, [], 'a load that reports none needed clears it');
    assert.deepEqual(three.schemaChanges, two.schemaChanges);
    assert.equal(three.lastCommitTs, '2021-06-01T00:00:00.000Z');
    assert.ok((three.lagSeconds ?? 0) < (two.lagSeconds ?? 0));

    s.idleReturns = true;
    const idle = await waitForStatus(client(), 'wf_fields', 'idle', (st) => st.lagSeconds === 0);
    assert.equal(idle.position, 'bin.000001:300 (idle)');
    assert.equal(idle.lagBytes, 42);
    assert.equal(idle.lastCommitTs, '2021-06-01T00:00:00.000Z', 'an empty capture keeps the last commit time');
    assert.equal(idle.batches, 3);
    assert.deepEqual(idle.counts, { 's.t': { insert: 3, update: 2, delete: 1 } });
    assert.equal(idle.events, 6);
    const handle = pipelineHandle(client(), 'wf_fields');
    await handle.cancel();
    assert.equal((await handle.result()).phase, 'stopped');
  });
});
