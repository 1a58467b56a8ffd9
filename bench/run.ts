/**
 * Ducktail benchmarks (npm run bench): end-to-end throughput of a real pipeline (PostgreSQL →
 * Temporal workflow → DuckDB) reported as ratios to floors measured in the same run on the same
 * data, plus the worker's peak RSS. Results go to stdout and bench/results/<timestamp>.json.
 *
 * BENCH_CHANGES (default 300000) sets the streamed change count, BENCH_ROWS (default 500000) the
 * snapshot size, BENCH_BIG_TXN (default 1000000) the row count of one single transaction, whose
 * peak RSS shows that memory is bounded by bytes, not by transaction size.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { NativeConnection } from '@temporalio/worker';
import { parsePipelineSpec } from '../src/config/load-config.js';
import type { PipelineStatus } from '../src/workflows/pipeline-state.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { createPipelineWorker } from '../src/worker.js';
import { pgCopyFloor, pgDecodeFloor, timed } from './floors.js';
import { dropPgReplication, ensurePgDatabase, PG_HOST, PG_PORT, PG_USER, pgConnect } from '../test/helpers/postgres.js';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 300_000);
const ROWS = Number(process.env.BENCH_ROWS ?? 500_000);
const BIG_TXN = Number(process.env.BENCH_BIG_TXN ?? 1_000_000);
const DB = 'ducktail_bench';
const TQ = 'bench';

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

async function main(): Promise<void> {
  await ensurePgDatabase(DB);
  const pgc = await pgConnect(DB);
  await dropPgReplication(pgc, 'ducktail_bench');
  await pgc.query(`DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench`);
  await pgc.query(`CREATE TABLE bench.items (id bigint PRIMARY KEY, qty int, name text, price numeric(12,2), at timestamptz)`);
  await pgc.query(`INSERT INTO bench.items SELECT g, g % 100, 'item-' || g, g * 0.01, now() FROM generate_series(1, ${ROWS}) g`);
  await pgc.query('VACUUM ANALYZE bench.items');

  const dir = path.join(os.tmpdir(), `ducktail-bench-${Date.now()}`);
  await mkdir(dir, { recursive: true });
  const spec = parsePipelineSpec({
    name: 'bench',
    source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB, tables: ['bench.items'] },
    destination: { path: path.join(dir, 'bench.duckdb') },
    mode: 'merge',
  });

  const server = await startDevServer();
  const connection = await NativeConnection.connect({ address: server.address });
  const worker = await createPipelineWorker({ connection, namespace: 'default', taskQueue: TQ, logger: pino({ level: process.env.DUCKTAIL_LOG_LEVEL ?? 'warn' }) });
  const running = worker.run();
  const client = server.env.client;
  const handle = await client.workflow.start('pipelineWorkflow', { taskQueue: TQ, workflowId: 'ducktail-bench', args: [{ spec }] });
  const status = () => handle.query<PipelineStatus>('status');
  const until = async (ok: (s: PipelineStatus) => boolean) => {
    for (;;) {
      const s = await status();
      if (s.lastError !== null) throw new Error(`pipeline error: ${s.lastError.message}`);
      if (ok(s)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  // 1. Snapshot, against the COPY floor.
  const snapshot = await timed(() => until((s) => s.phase === 'streaming' && s.events >= ROWS));
  const copyFloor = await pgCopyFloor(pgc, 'bench.items');

  // 2. Streaming: pause, make the changes, measure the decode floor on a slot that saw them, resume.
  await handle.signal('pause');
  await until((s) => s.phase === 'paused');
  await pgc.query(`SELECT pg_create_logical_replication_slot('ducktail_bench_floor', 'pgoutput')`);
  const inserts = Math.floor(CHANGES * 0.5);
  const updates = Math.floor(CHANGES * 0.3);
  const deletes = CHANGES - inserts - updates;
  const before = (await status()).events;
  const batch = 10_000;
  for (let i = 0; i < inserts; i += batch) {
    await pgc.query(`INSERT INTO bench.items SELECT g, 1, 'new', 1.5, now() FROM generate_series($1::bigint, $2::bigint) g`, [ROWS + i + 1, ROWS + Math.min(i + batch, inserts)]);
  }
  for (let i = 0; i < updates; i += batch) {
    await pgc.query(`UPDATE bench.items SET qty = qty + 1 WHERE id BETWEEN $1 AND $2`, [i + 1, Math.min(i + batch, updates)]);
  }
  for (let i = 0; i < deletes; i += batch) {
    await pgc.query(`DELETE FROM bench.items WHERE id BETWEEN $1 AND $2`, [updates + i + 1, updates + Math.min(i + batch, deletes)]);
  }
  const decodeFloor = await pgDecodeFloor(pgc, 'ducktail_bench_floor', spec.source.kind === 'postgres' ? spec.source.publication : '');
  await pgc.query(`SELECT pg_drop_replication_slot('ducktail_bench_floor')`);
  peakRss = process.memoryUsage().rss;
  await handle.signal('resume');
  const stream = await timed(() => until((s) => s.events >= before + CHANGES));
  const streamPeakRss = peakRss;

  // 3. One huge transaction: memory must stay bounded (the batch splits it; the queue is bounded by bytes).
  await handle.signal('pause');
  await until((s) => s.phase === 'paused');
  const beforeBig = (await status()).events;
  const updated = await pgc.query(`UPDATE bench.items SET qty = qty + 1 WHERE id <= ${BIG_TXN}`);
  const bigRows = updated.rowCount ?? 0;
  peakRss = process.memoryUsage().rss;
  const baseRss = peakRss;
  await handle.signal('resume');
  const big = await timed(() => until((s) => s.events >= beforeBig + bigRows));

  await handle.cancel();
  await handle.result();
  worker.shutdown();
  await running;
  await connection.close();
  await server.stop();
  await dropPgReplication(pgc, 'ducktail_bench');
  await pgc.end();
  clearInterval(sampler);
  await rm(dir, { recursive: true, force: true });

  const results = {
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) },
    snapshot: {
      rows: ROWS,
      seconds: snapshot.seconds,
      rowsPerSecond: ROWS / snapshot.seconds,
      floorSeconds: copyFloor.seconds,
      ratioToFloor: copyFloor.seconds / snapshot.seconds,
    },
    streaming: {
      changes: CHANGES,
      seconds: stream.seconds,
      changesPerSecond: CHANGES / stream.seconds,
      floorSeconds: decodeFloor.seconds,
      floorMessages: decodeFloor.messages,
      ratioToFloor: decodeFloor.seconds / stream.seconds,
    },
    streamingPeakRssMiB: Math.round(streamPeakRss / 2 ** 20),
    bigTransaction: {
      rows: bigRows,
      seconds: big.seconds,
      rowsPerSecond: bigRows / big.seconds,
      rssBeforeMiB: Math.round(baseRss / 2 ** 20),
      peakRssMiB: Math.round(peakRss / 2 ** 20),
    },
  };
  const out = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, `${results.at.replace(/[:.]/g, '-')}.json`), JSON.stringify(results, null, 2));
  const pct = (x: number) => `${(x * 100).toFixed(0)}% of floor`;
  process.stdout.write(
    [
      `snapshot  ${ROWS} rows in ${snapshot.seconds.toFixed(2)} s (${Math.round(results.snapshot.rowsPerSecond)}/s) — ${pct(results.snapshot.ratioToFloor)} (COPY floor ${copyFloor.seconds.toFixed(2)} s)`,
      `streaming ${CHANGES} changes in ${stream.seconds.toFixed(2)} s (${Math.round(results.streaming.changesPerSecond)}/s) — ${pct(results.streaming.ratioToFloor)} (pgoutput decode floor ${decodeFloor.seconds.toFixed(2)} s)`,
      `peak RSS  ${results.streamingPeakRssMiB} MiB while streaming (worker, Temporal client and benchmark in one process)`,
      `one txn   ${bigRows} rows in ${big.seconds.toFixed(2)} s (${Math.round(results.bigTransaction.rowsPerSecond)}/s), RSS ${results.bigTransaction.rssBeforeMiB} → peak ${results.bigTransaction.peakRssMiB} MiB`,
    ].join('\n') + '\n',
  );
}

main().catch((err: unknown) => {
  clearInterval(sampler);
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
