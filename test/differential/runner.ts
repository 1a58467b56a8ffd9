import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { describeUpkeep } from '../../src/destinations/ducklake/ducklake-upkeep.js';
import { isLake } from '../../src/model/pipeline-spec.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { runUpkeepNow } from '../../src/temporal/upkeep-schedule.js';
import type { PipelineStatus } from '../../src/workflows/pipeline-state.js';
import type { TestLake } from '../helpers/ducklake.js';
import { tempDir } from '../helpers/pipelines.js';
import { testServer } from '../helpers/temporal.js';
import type { SourceDriver } from './driver.js';
import { FaultInjector, planFaults } from './faults.js';
import { resolveFeatures } from './features.js';
import { WorkloadGenerator } from './generator.js';
import { MysqlDriver } from './mysql-driver.js';
import { replayCommand, STALL_SECONDS, type RunOptions } from './options.js';
import { pgSlotName, PgDriver } from './pg-driver.js';
import {
  describeDestinations,
  describeStatus,
  planDestinations,
  StallWatch,
  startPipelines,
  statusOf,
  stopPipelines,
  waitCaughtUp,
  waitPrepared,
  writePipelineConfig,
  type RunPipelines,
} from './pipelines.js';
import { Prng } from './prng.js';
import { Findings, formatFindings, type Divergence } from './report.js';
import { truthTable, type TruthTable } from './truth.js';
import { verify } from './verify.js';
import { WorkerSupervisor } from './worker-supervisor.js';
import { newStats, runWorkload, type WorkloadStats } from './workload.js';

export interface RunResult {
  ok: boolean;
  findings: Divergence[];
  /** The whole story: seed, replay command, where things are, summary, findings. */
  report: string;
  replay: string;
  dir: string;
}

let runs = 0;

/**
 * One differential run: a fresh source database, seed rows, a MERGE and an APPEND pipeline (each
 * into a DuckDB file or a lake, as the seed plans) on a `ducktail worker` child process, the seeded
 * workload with faults injected, then (once both pipelines caught up) both copies compared with
 * the truth. Never hangs: every wait is
 * bounded, and a stall is reported with the pipelines' status.
 */
export async function runDifferential(o: RunOptions): Promise<RunResult> {
  const runId = `${process.pid.toString(36)}_${++runs}`;
  const say = o.log ?? ((): void => undefined);
  const dir = await tempDir(`ducktail-diff-${runId}`);
  const features = resolveFeatures(o.switches);
  const driver: SourceDriver = o.source === 'pg' ? new PgDriver(runId) : new MysqlDriver(runId);
  const gen = new WorkloadGenerator({ seed: o.seed, dialect: o.source, features, seedRows: o.seedRows });
  const rng = new Prng(o.seed);
  const findings = new Findings();
  const stats = newStats();
  const lines: string[] = [];
  const note = (l: string): void => {
    lines.push(l);
    say(l);
  };
  const workers = o.workers ?? 1;
  if (workers > 1 && o.destination !== 'ducklake') {
    throw new Error(`${workers} workers need --destination ducklake: a DuckDB file has one writing process, and its pipelines one worker`);
  }
  const destinations = planDestinations(o.seed, o.destination);
  const lakes: TestLake[] = [];
  note(`differential run: source ${o.source}, seed ${o.seed}, ${describeDestinations(destinations)}${workers > 1 ? `, ${workers} workers` : ''} — replay: ${replayCommand(o)}`);

  let server: DevServer | null = null;
  let supervisor: WorkerSupervisor | null = null;
  let pipelines: RunPipelines | null = null;
  let auditEntries = 0;
  let statusLine = '';
  let faultLine = 'none';
  try {
    const { snapshot, auditMark } = await seedSource(driver, gen);

    server = o.server ?? (await testServer());
    const cfg = rng.fork('config');
    pipelines = await writePipelineConfig(dir, runId, driver, { maxRows: cfg.int(200, 500), maxWaitMs: 200, chunkRows: cfg.int(80, 200) }, destinations, lakes);
    const names = [pipelines.merge.name, pipelines.append.name];
    supervisor = new WorkerSupervisor(pipelines.configFile, server.address, dir, note, o.workers ?? 1);
    supervisor.start();
    const client = server.env.client;
    await startPipelines(client, pipelines);
    const notPrepared = await waitPrepared(client, names, 120_000);
    if (notPrepared !== null) {
      findings.add('pipeline', '', 'not prepared', notPrepared);
    } else {
      const durationMs = o.seconds * 1000;
      const plan = planFaults(rng.fork('faults'), features, {
        durationMs,
        workerKills: o.workerKills,
        connKills: o.connKills,
        killEverySec: o.killEverySec,
        connKillEverySec: o.connKillEverySec,
      });
      const slots = o.source === 'pg' ? names.map(pgSlotName) : [];
      const watch = new StallWatch();
      const upkeep = lakeUpkeep(client, pipelines);
      const faults = new FaultInjector(plan, rng.fork('fault-moments'), client, supervisor, driver, names, slots, note, () => watch.touch(), upkeep);
      faults.start();
      const monitor = startMonitor(o, stats, faults, watch, () => Promise.all(names.map(async (n) => [n, await statusOf(client, n, 2_000)] as const)), say);
      try {
        const deadline = Date.now() + (o.steps === undefined ? durationMs : durationMs * 3);
        await runWorkload(gen, driver, { steps: o.steps, deadline }, stats, () => watch.stalledFor() > STALL_SECONDS * 1000);
      } finally {
        clearInterval(monitor);
        await faults.stop();
      }
      if (watch.stalledFor() > STALL_SECONDS * 1000) note(`a pipeline stalled for ${Math.round(watch.stalledFor() / 1000)} s: workload stopped early`);
      faultLine = `${faults.workerKills} worker SIGKILLs, ${faults.connKills} replication connection kills, ${faults.resyncs} re-syncs, ${faults.pauses} pauses, ${faults.upkeeps} lake upkeeps, ${supervisor.crashes.length} worker crashes`;
      note(`workload done: ${formatStats(stats)}; faults: ${faultLine}`);

      const target = await driver.currentPosition();
      const stalled = await waitCaughtUp(client, driver, names, target, { stallMs: STALL_SECONDS * 1000, maxMs: 240_000 }, watch);
      const statuses = await Promise.all(names.map((n) => statusOf(client, n)));
      statusLine = names.map((n, i) => `${n}: ${describeStatus(statuses[i] ?? null)}`).join('\n  ');
      if (stalled !== null) findings.add('pipeline', '', 'stalled', stalled);
      await stopPipelines(client, names, stalled === null);
      await supervisor.stop(stalled !== null);
      for (const c of supervisor.crashes) findings.add('worker', '', 'crashed', c);

      const restarted = await snapshotsStartedOver(dir, names);
      const snapshotHit = new Set([...faults.snapshotHit, ...restarted]);
      const result = await verify({ driver, model: gen.model, pipelines, snapshot, auditMark, snapshotHit, columnChanges: stats.columnChanges, resynced: faults.resynced, findings });
      auditEntries = result.auditEntries;
    }
  } catch (err) {
    const text = (err as Error).stack ?? String(err);
    findings.add(text.includes('tester bug') ? 'audit' : 'pipeline', '', 'run aborted', text);
  } finally {
    await supervisor?.stop(true).catch(() => undefined);
  }

  const ok = findings.empty;
  const keep = !ok || o.keep === true;
  const replay = replayCommand(o, stats.steps);
  const lakeWhere = lakes.map((l) => `\nlake catalog kept: database ${l.database} (data in ${l.destination.dataPath})`).join('');
  const where = keep ? `source kept: ${driver.location}${lakeWhere}\nDuckDB files, lake data and worker logs kept in ${dir}` : '(source and lake databases dropped, files removed)';
  const report = [
    `${ok ? 'PASSED' : 'FAILED'}: differential run, source ${o.source}, seed ${o.seed}, ${describeDestinations(destinations)}${workers > 1 ? `, ${workers} workers` : ''}`,
    `replay: ${replay}`,
    where,
    `workload: ${formatStats(stats)}; audit entries after the snapshot: ${auditEntries}`,
    `faults: ${faultLine}`,
    ...(statusLine === '' ? [] : [`pipelines at the end:\n  ${statusLine}`]),
    ...(ok ? [] : ['', formatFindings(findings.list)]),
    '',
    'log:',
    ...lines.map((l) => `  ${l}`),
  ].join('\n');
  await writeFile(path.join(dir, 'report.txt'), report).catch(() => undefined);
  await driver.cleanup(pipelines === null ? [] : [pipelines.merge.name, pipelines.append.name], keep).catch((err: unknown) => say(`cleanup failed: ${(err as Error).message}`));
  if (!keep) for (const l of lakes) await l.drop().catch((err: unknown) => say(`dropping lake ${l.database} failed: ${(err as Error).message}`));
  if (o.server === undefined) await server?.stop().catch(() => undefined);
  if (!keep) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  return { ok, findings: findings.list, report, replay, dir };
}

/**
 * Creates the source, its tables and seed rows, then takes the truth at the snapshot point: the
 * tables as they are and the audit log's last id. Nothing writes until the pipelines have
 * prepared, so their snapshots start exactly here.
 */
async function seedSource(driver: SourceDriver, gen: WorkloadGenerator): Promise<{ snapshot: Map<string, TruthTable>; auditMark: number }> {
  await driver.setup();
  for (const step of gen.setup()) for (const txn of step.txns) await driver.run(txn);
  const snapshot = new Map<string, TruthTable>();
  for (const t of gen.model.tables) {
    const source = await driver.readTable(t.name);
    if (source !== null) snapshot.set(t.name, truthTable(t.name, source, t.keyColumns().map((c) => c.name), t.classes));
  }
  return { snapshot, auditMark: await driver.auditMark() };
}

export function formatStats(s: WorkloadStats): string {
  const ops = [...s.ops].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}:${v}`).join(' ');
  return `${s.steps} steps, ${s.txns} transactions (${s.rollbacks} rolled back), ${s.rows} row changes, ${s.ddl} DDL [${ops}]`;
}

/** Polls the pipelines every 2 s (feeding the stall watch) and prints a progress line now and then. */
function startMonitor(
  o: RunOptions,
  stats: WorkloadStats,
  faults: FaultInjector,
  watch: StallWatch,
  statuses: () => Promise<(readonly [string, PipelineStatus | null])[]>,
  say: (l: string) => void,
): NodeJS.Timeout {
  const started = Date.now();
  let lastSaid = started;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void statuses()
      .then((all) => {
        for (const [name, s] of all) watch.observe(name, s);
        if (Date.now() - lastSaid < (o.progressEverySec ?? 10) * 1000) return;
        lastSaid = Date.now();
        const p = all.map(([, x]) => (x === null ? '?' : `${x.mode} ${x.phase} b${x.batches} e${x.events}${x.lagBytes === null ? '' : ` lag ${x.lagBytes}B`}`)).join(' | ');
        say(`t+${Math.round((Date.now() - started) / 1000)}s steps ${stats.steps} rows ${stats.rows} kills ${faults.workerKills}/${faults.connKills} | ${p}`);
      })
      .finally(() => (busy = false));
  }, 2_000);
  timer.unref();
  return timer;
}

/**
 * Pipelines whose initial copy started over, as the workers logged it: a kill during the copy, a
 * table that changed under it, or (MySQL) a schema change the copy gave way to.
 */
async function snapshotsStartedOver(dir: string, pipelines: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const f of (await readdir(dir)).filter((n) => /^worker-([a-z]-)?\d+\.log$/.test(n))) {
    for (const line of (await readFile(path.join(dir, f), 'utf8')).split('\n')) {
      if (!line.includes('the snapshot was interrupted')) continue;
      for (const p of pipelines) if (line.includes(`"pipeline":${JSON.stringify(p)}`)) out.add(p);
    }
  }
  return out;
}

/**
 * Upkeep of the run's lakes, as its schedule runs it but keeping only the newest snapshot (the
 * comparisons read the current state) and deleting unused files a minute old (a load's files are
 * written before it commits: younger files are never taken for unused). Null without a lake.
 */
function lakeUpkeep(client: Client, p: RunPipelines): (() => Promise<string>) | null {
  const lakes = [p.merge, p.append].filter((s) => isLake(s.destination));
  if (lakes.length === 0) return null;
  return async () => {
    const done: string[] = [];
    for (const spec of lakes) {
      const destination = { ...spec.destination, upkeep: { every: '1h', keepSnapshots: '1s', keepFiles: '1m' } };
      done.push(`${spec.name}: ${describeUpkeep(await runUpkeepNow(client, p.taskQueue, { ...spec, destination }))}`);
    }
    return done.join('; ');
  };
}
