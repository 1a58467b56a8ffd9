import { lakeExtensionsInstalled } from '../../src/destinations/ducklake/ducklake-extensions.js';
import type { PipelineSpec } from '../../src/model/pipeline-spec.js';
import type { BenchContext, Scenario } from '../context.js';
import { pauseOnceSnapshotted } from '../drivers.js';
import { pgDecodeFloor, type Floor } from '../floors.js';
import { createBenchLake, dropBenchLake, writeLakeConfig } from '../lake.js';
import { measureAll } from '../measure.js';
import { BenchPipeline } from '../pipeline.js';
import { createFloorSlot, createItems, dropItems, dropPgBenchReplication, pgBenchConnect, untilSlotsIdle, writeBacklog } from '../pg-workload.js';
import { makeResult, type BenchResult } from '../result.js';
import { WorkerGroup } from '../worker-process.js';
import { PG_DECODE_FLOOR } from './pg-backlog.js';

export const lakeWorkers: Scenario = {
  name: 'lake-workers',
  summary:
    'PostgreSQL → DuckLake MERGE pipelines (4, each its own table) writing one lake, their backlogs drained by 1 and then by 2 workers on one task queue; floor: pgoutput decoding all the backlogs',
  async run(ctx) {
    if (!lakeExtensionsInstalled()) throw new Error('the DuckDB ducklake/postgres_scanner extensions are not in .tools/duckdb-extensions: run npm run setup');
    return [await drainLake(ctx, 1), await drainLake(ctx, 2)];
  },
};

/**
 * Which worker each pipeline was placed on (the least busy one as it started, see the workflow's
 * placement), reported as the split measured: nothing is moved by hand.
 */
async function placed(ctx: BenchContext, pipelines: BenchPipeline<PipelineSpec>[], group: WorkerGroup): Promise<void> {
  const homes: number[] = [];
  for (const p of pipelines) {
    const s = await p.until(group, 'the pipeline placed', (st) => st.checkpoint !== null && st.home !== undefined, 20);
    const w = group.workers.findIndex((worker) => s.home?.includes(`-${worker.pid}-`) === true);
    if (w < 0) throw new Error(`${p.spec.name} is at home on ${s.home}, none of the workers started`);
    homes.push(w);
  }
  if (group.workers.length > 1) ctx.say(`pipelines per worker as placed: ${countPer(homes, group)}`);
}

const countPer = (homes: number[], group: WorkerGroup): string => group.workers.map((_, w) => homes.filter((h) => h === w).length).join('+');

/**
 * One measurement on a fresh lake, fresh tables and slots: `workers` worker processes start the
 * pipelines (each becomes the home of those whose first activity it took) and pause them once
 * snapshotted (empty tables); once no worker reads a slot any more, a backlog is written to every
 * table; then all pipelines resume at once and the measured part ends when the last one has
 * loaded its backlog. The workers polling from the start means no capture waits for a dead
 * home worker (3 s each).
 */
async function drainLake(ctx: BenchContext, workers: number): Promise<BenchResult> {
  const { lakePipelines, lakeChanges } = ctx.sizes;
  const perPipeline = Math.floor(lakeChanges / lakePipelines);
  const changes = perPipeline * lakePipelines;
  const name = `bench_lake_w${workers}`;
  const tables = Array.from({ length: lakePipelines }, (_, i) => `lake_w${workers}_${i + 1}`);
  const dir = await ctx.dir(`lake-workers-${workers}`);
  const pgc = await pgBenchConnect();
  let group: WorkerGroup | undefined;
  try {
    for (const table of tables) await createItems(pgc, table);
    const destination = await createBenchLake(`${dir}/lake-data`);
    const configFile = await writeLakeConfig(dir, { name, tables, destination, mode: 'merge' });
    const pipelines = await BenchPipeline.fromConfig(ctx.client, ctx.server.address, configFile);
    const sources = pipelines.flatMap((p) => (p.spec.source.kind === 'postgres' ? [p.spec.source] : []));
    const [first] = pipelines;
    if (first === undefined) throw new Error(`${configFile} holds no pipeline`);

    ctx.say(`${name}: ${workers} worker(s) start ${lakePipelines} pipelines into one lake, then pause them`);
    // The workers share a temp directory, as on one host; there they stage lake batches.
    const tmp = await ctx.dir(`lake-workers-${workers}/tmp`);
    let n = 0;
    group = await WorkerGroup.start(workers, () => first.startWorkerLogging(`worker-${++n}.log`, { TMPDIR: tmp }));
    for (const p of pipelines) await p.start();
    const running = group;
    await placed(ctx, pipelines, running);
    await Promise.all(pipelines.map((p) => pauseOnceSnapshotted(p, running)));
    await untilSlotsIdle(pgc, sources.map((s) => s.slot));

    const floorSlot = await createFloorSlot(pgc);
    let floor: Floor;
    try {
      ctx.say(`${name}: writing the backlogs (${lakePipelines} × ${perPipeline} changes)`);
      for (const table of tables) await writeBacklog(pgc, table, perPipeline);
      floor = await pgDecodeFloor(pgc, floorSlot.slot, sources.map((s) => s.publication).join(','));
    } finally {
      await floorSlot.drop();
    }
    ctx.say(`${name}: floor ${floor.seconds.toFixed(2)} s; draining`);
    const measured = await measureAll({
      pipelines,
      workers: running,
      what: `${perPipeline} changes loaded`,
      begin: async () => {
        for (const p of pipelines) await p.resume();
      },
      done: (before, s) => s.events >= before.events + perPipeline,
    });
    for (const p of pipelines) await p.terminate();
    const { peakRssMbPerWorker, pipelinesPerWorker, lakeConflicts } = measured;
    ctx.say(`${name}: pipelines per worker ${pipelinesPerWorker.join('+')}, peak RSS ${peakRssMbPerWorker.map(Math.round).join(' / ')} MB, lake commit conflicts ${lakeConflicts}`);
    return {
      ...makeResult('lake-workers', 'merge', changes, measured, PG_DECODE_FLOOR, floor),
      workers,
      peakRssMbPerWorker: peakRssMbPerWorker.map(Math.round),
      pipelinesPerWorker,
      lakeConflicts,
    };
  } finally {
    await group?.kill();
    await dropPgBenchReplication(pgc, `ducktail_${name}_`);
    for (const table of tables) await dropItems(pgc, table);
    await pgc.end();
    await dropBenchLake();
  }
}
