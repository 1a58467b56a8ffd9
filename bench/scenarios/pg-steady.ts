import type pg from 'pg';
import type { Scenario } from '../context.js';
import { LatencyProbe, percentile, type ProbeReport } from '../latency-probe.js';
import { measure } from '../measure.js';
import type { BenchPipeline } from '../pipeline.js';
import { createItems, dropItems, dropPgBenchReplication, fillItems, PG_SCHEMA, pgBenchConnect, pgSource, writeTick } from '../pg-workload.js';
import { makeResult, type BenchResult } from '../result.js';
import { LiveRange } from '../shape.js';
import type { WorkerProcess } from '../worker-process.js';

/** Rows in the table before the load starts (the snapshot). */
const INITIAL_ROWS = 10_000;
/** One transaction every TICK_MS. */
const TICK_MS = 100;
const ITEMS = 'steady_items';
const PROBE = 'steady_probe';

export const pgSteady: Scenario = {
  name: 'pg-steady',
  summary: 'PostgreSQL commits at fixed rates (1k and 10k changes/s, one transaction per 100 ms) while the pipeline streams (MERGE); commit → visible latency from a probe polling the DuckDB file; floor: the offered rate',
  async run(ctx) {
    const name = 'bench_pg_steady';
    const load = await pgBenchConnect();
    const probeClient = await pgBenchConnect();
    try {
      await createItems(load, ITEMS);
      await load.query(`DROP TABLE IF EXISTS ${PG_SCHEMA}.${PROBE}; CREATE TABLE ${PG_SCHEMA}.${PROBE} (id bigint PRIMARY KEY, at timestamptz)`);
      const pipeline = await ctx.pipeline({ name, source: pgSource([ITEMS, PROBE]), mode: 'merge' });
      const starting = pipeline.startWorker();
      starting.catch(() => undefined);
      try {
        await fillItems(load, ITEMS, INITIAL_ROWS);
        const worker = await starting;
        await pipeline.start();
        await pipeline.until(worker, 'the snapshot', (s) => s.phase === 'streaming' && s.events >= INITIAL_ROWS);
        const live = new LiveRange(1, INITIAL_ROWS + 1);
        let markers = 1;
        const results: BenchResult[] = [];
        for (const rate of ctx.sizes.steadyRates) {
          ctx.say(`${name}: ${rate} changes/s for ${ctx.sizes.steadySeconds} s`);
          const probe = new LatencyProbe(probeClient, `${PG_SCHEMA}.${PROBE}`, pipeline.spec.destination.path, `${PG_SCHEMA}.${PROBE}`, markers);
          results.push(await steadyAt(pipeline, worker, { load, live, probe, rate, seconds: ctx.sizes.steadySeconds }));
          markers = probe.next;
        }
        await pipeline.terminate();
        return results;
      } finally {
        await starting.then((w) => w.kill(), () => undefined);
      }
    } finally {
      await dropPgBenchReplication(load, `ducktail_${name}`);
      await dropItems(load, ITEMS);
      await dropItems(load, PROBE);
      await Promise.all([load.end(), probeClient.end()]);
    }
  },
};

interface SteadyInput {
  load: pg.Client;
  live: LiveRange;
  probe: LatencyProbe;
  rate: number;
  seconds: number;
}

/** Offers `rate` changes/s for `seconds` with the probe running, then waits until everything is loaded. */
async function steadyAt(pipeline: BenchPipeline, worker: WorkerProcess, input: SteadyInput): Promise<BenchResult> {
  let offered = { changes: 0, seconds: 0 };
  let report: ProbeReport = { markers: 0, latenciesMs: [], opens: 0, refusedOpens: 0 };
  const measured = await measure({
    pipeline,
    worker,
    what: `the changes offered at ${input.rate}/s`,
    begin: async () => {
      input.probe.start();
      offered = await offer(input);
      report = await input.probe.stop();
    },
    done: (before, s) => s.events >= before.events + offered.changes + report.markers,
  });
  const changes = offered.changes + report.markers;
  return {
    ...makeResult('pg-steady', 'merge', changes, measured, 'offered rate', { seconds: offered.seconds, items: changes }),
    offeredChangesPerSec: input.rate,
    latencyP50Ms: percentile(report.latenciesMs, 50),
    latencyP99Ms: percentile(report.latenciesMs, 99),
    latencyMaxMs: report.latenciesMs.at(-1) ?? NaN,
    probeOpens: report.opens,
    refusedOpens: report.refusedOpens,
  };
}

/** One transaction of rate/10 changes every 100 ms (on schedule: a late tick is not made up by a bigger one). */
async function offer({ load, live, rate, seconds }: SteadyInput): Promise<{ changes: number; seconds: number }> {
  const perTick = Math.round((rate * TICK_MS) / 1000);
  const start = Date.now();
  let changes = 0;
  for (let tick = 0; tick * TICK_MS < seconds * 1000; tick++) {
    const wait = start + tick * TICK_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await writeTick(load, ITEMS, live, perTick);
    changes += perTick;
  }
  return { changes, seconds: (Date.now() - start) / 1000 };
}
