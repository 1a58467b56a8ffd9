import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePipelineSpec } from '../../../src/config/load-config.js';
import { DuckLakeSession } from '../../../src/destinations/ducklake/ducklake-session.js';
import { describeUpkeep, runLakeUpkeep } from '../../../src/destinations/ducklake/ducklake-upkeep.js';
import type { PipelineSpec } from '../../../src/model/pipeline-spec.js';
import type { DevServer } from '../../../src/temporal/dev-server.js';
import { ensureUpkeepSchedule, runUpkeepNow, upkeepScheduleId } from '../../../src/temporal/upkeep-schedule.js';
import { LAKE_SKIP } from '../../helpers/ducklake.js';
import { inProcessWorker, testServer, TASK_QUEUE_PREFIX, type RunningWorker } from '../../helpers/temporal.js';
import { column, Harness, row, schema } from '../duckdb/duckdb-kit.js';

const ITEMS = 'shop.items';
const items = schema(ITEMS, [column('id', 'INTEGER'), column('name'), column('qty', 'INTEGER')]);

/** Batch k inserts item k and sets item 1's qty to k: one small data file (and a delete file) per batch. */
async function loadBatches(h: Harness, from: number, to: number): Promise<void> {
  for (let k = from; k <= to; k++) {
    await h.apply([items, row(ITEMS, 'insert', [String(k), `item${k}`, String(k)], `0/${k}`), ...(k > 1 ? [row(ITEMS, 'update', ['1', undefined, String(k)], `0/${k}`)] : [])]);
  }
}

async function parquetFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((e) => e.endsWith('.parquet')).length;
}

const expected = (k: number) => Array.from({ length: k }, (_, i) => ({ id: i + 1, qty: i === 0 ? k : i + 1 }));

describe('DuckLake upkeep', { skip: LAKE_SKIP }, () => {
  let h: Harness;
  let session: DuckLakeSession;
  before(async () => {
    h = await Harness.openLake();
    session = await DuckLakeSession.open({ destination: h.lake.destination });
  });
  after(async () => {
    await session?.close();
    await h?.close();
  });

  const table = async () => (await h.query('SELECT id, qty FROM shop.items WHERE NOT __deleted ORDER BY id')).map((r) => ({ id: Number(r.id), qty: Number(r.qty) }));
  const snapshots = async () => Number((await h.query('SELECT count(*) AS n FROM lake.snapshots()'))[0]!.n);

  test('keeping a week: small files merged, every snapshot kept and readable, no file deleted', async () => {
    await loadBatches(h, 1, 12);
    const snapshotsBefore = await snapshots();
    const filesBefore = await parquetFiles(h.lake.destination.dataPath);
    const report = await runLakeUpkeep(session, { every: '1h', keepSnapshots: '7d', keepFiles: '1d' });
    assert.ok(report.filesMerged > report.filesCreated && report.filesCreated > 0, describeUpkeep(report));
    assert.equal(report.snapshotsExpired, 0);
    assert.equal(report.filesDeleted + report.orphansDeleted, 0);
    assert.ok(report.snapshots > snapshotsBefore, 'the merge is a snapshot of its own');
    // Merged files are only scheduled for deletion: older snapshots still read them.
    assert.ok((await parquetFiles(h.lake.destination.dataPath)) > filesBefore);
    assert.deepEqual(await table(), expected(12));
    const asOf3 = await h.query("SELECT snapshot_id FROM lake.snapshots() WHERE commit_message = 'p1 at 0/3'");
    const then = await h.query(`SELECT id, qty FROM lake.shop.items AT (VERSION => ${Number(asOf3[0]!.snapshot_id)}) WHERE NOT __deleted ORDER BY id`);
    assert.deepEqual(then.map((r) => ({ id: Number(r.id), qty: Number(r.qty) })), expected(3));
  });

  test('keeping a second: old snapshots expired and unused files deleted from the data path; the copy, the checkpoint and later loads unchanged', async () => {
    const filesBefore = await parquetFiles(h.lake.destination.dataPath);
    await sleep(1_100);
    const report = await runLakeUpkeep(session, { every: '1h', keepSnapshots: '1s', keepFiles: '1s' });
    assert.ok(report.snapshotsExpired > 10, describeUpkeep(report));
    assert.ok(report.filesDeleted > 10, describeUpkeep(report));
    assert.equal(report.snapshots, 1, 'only the newest snapshot is left');
    // What expiry freed is scheduled for deletion now: the next run, keepFiles later, deletes it.
    assert.ok((await parquetFiles(h.lake.destination.dataPath)) < filesBefore, 'files merged before were deleted');
    await sleep(1_100);
    const again = await runLakeUpkeep(session, { every: '1h', keepSnapshots: '1s', keepFiles: '1s' });
    assert.ok(again.filesDeleted > 10, describeUpkeep(again));
    const filesAfter = await parquetFiles(h.lake.destination.dataPath);
    const deleteFiles = Number((await h.query('SELECT count(*) AS n FROM __ducklake_metadata_lake.ducklake_delete_file WHERE end_snapshot IS NULL'))[0]!.n);
    assert.equal(filesAfter, again.dataFiles + deleteFiles, 'the data path holds only files the lake uses');
    assert.ok(filesAfter < filesBefore / 3, `files on disk: ${filesBefore} → ${filesAfter}`);
    assert.deepEqual(await table(), expected(12));
    // The pipeline goes on loading into the compacted lake, from its checkpoint.
    const checkpoint = await h.dest.readCheckpoint(h.pipeline);
    assert.equal(checkpoint?.position !== null && checkpoint?.position !== undefined && 'lsn' in checkpoint.position ? checkpoint.position.lsn : null, '0/12');
    await loadBatches(h, 13, 14);
    assert.deepEqual(await table(), expected(14));
    assert.match(describeUpkeep(report), /^expired \d+ snapshots, deleted \d+ unused files \(1 snapshot, \d+ data files? in use; [\d.]+ s\)$/);
  });
});

describe('DuckLake upkeep on a Temporal Schedule (real Temporal, worker, lake)', { skip: LAKE_SKIP }, () => {
  let server: DevServer;
  let worker: RunningWorker;
  let h: Harness;
  const taskQueue = `${TASK_QUEUE_PREFIX}-upkeep-${process.pid}`;
  let spec: PipelineSpec;
  before(async () => {
    server = await testServer();
    worker = await inProcessWorker(server, taskQueue);
    h = await Harness.openLake();
    spec = parsePipelineSpec({ name: 'p1', source: { kind: 'postgres', tables: [ITEMS] }, destination: h.lake.destination });
  });
  after(async () => {
    await worker?.stop();
    await h?.close();
    await server?.stop();
  });

  test('the schedule follows the spec (created, unchanged, updated, deleted with upkeep off); a run now does the work on a worker', async () => {
    const client = server.env.client;
    assert.equal(await ensureUpkeepSchedule(client, taskQueue, spec), 'created');
    assert.equal(await ensureUpkeepSchedule(client, taskQueue, spec), 'unchanged');
    const handle = client.schedule.getHandle(upkeepScheduleId('p1'));
    const described = await handle.describe();
    assert.equal(Number(described.spec.intervals?.[0]?.every), 3_600_000);
    assert.equal(described.action.type === 'startWorkflow' ? described.action.workflowType : null, 'lakeUpkeepWorkflow');
    const every15m = parsePipelineSpec({ ...spec, destination: { ...h.lake.destination, upkeep: { every: '15m' } } });
    assert.equal(await ensureUpkeepSchedule(client, taskQueue, every15m), 'updated');
    assert.equal(Number((await handle.describe()).spec.intervals?.[0]?.every), 900_000);

    // A scheduled run (triggered now) and a run asked for both compact the lake through the worker.
    await loadBatches(h, 1, 6);
    const itemFiles = async () => Number((await h.query("SELECT count(*) AS n FROM ducklake_list_files('lake', 'items', schema => 'shop')"))[0]!.n);
    const filesBefore = await itemFiles();
    await handle.trigger();
    const deadline = Date.now() + 60_000;
    let runs = 0;
    while (Date.now() < deadline) {
      runs = 0;
      for await (const w of client.workflow.list({ query: `WorkflowType = 'lakeUpkeepWorkflow' AND ExecutionStatus = 'Completed'` })) if (w.workflowId.startsWith(upkeepScheduleId('p1'))) runs++;
      if (runs > 0) break;
      await sleep(500);
    }
    assert.equal(runs, 1, 'the triggered upkeep run completed');
    const merged = await itemFiles();
    assert.ok(merged < filesBefore / 2, `data files of shop.items: ${filesBefore} → ${merged}`);
    await loadBatches(h, 7, 9);
    const unmerged = await itemFiles();
    const report = await runUpkeepNow(client, taskQueue, spec);
    assert.ok(report.filesMerged >= 3 && report.filesCreated >= 1, describeUpkeep(report));
    assert.ok((await itemFiles()) < unmerged, 'the run asked for merged the new files');
    assert.deepEqual((await h.query('SELECT id, qty FROM shop.items WHERE NOT __deleted ORDER BY id')).map((r) => ({ id: Number(r.id), qty: Number(r.qty) })), expected(9));

    const off = parsePipelineSpec({ ...spec, destination: { ...h.lake.destination, upkeep: false } });
    assert.equal(await ensureUpkeepSchedule(client, taskQueue, off), 'deleted');
    assert.equal(await ensureUpkeepSchedule(client, taskQueue, off), 'none');
    const file = parsePipelineSpec({ ...spec, destination: { path: path.join(h.dir, 'f.duckdb') } });
    assert.equal(await ensureUpkeepSchedule(client, taskQueue, file), 'none');
  });
});
