import type { Client } from '@temporalio/client';
import type { SourceDriver } from './driver.js';
import type { Features } from './features.js';
import { pauseSignal, pipelineHandle, resumeSignal, resyncUpdate } from '../../src/temporal/pipeline-contract.js';
import { statusOf } from './pipelines.js';
import type { Prng } from './prng.js';
import type { WorkerSupervisor } from './worker-supervisor.js';

/** When faults strike, in ms after the workload starts. Drawn from the seed's own fault stream. */
export interface FaultPlan {
  workerKills: number[];
  connKills: number[];
  /** Also SIGKILL the worker once while a snapshot is being copied. */
  duringSnapshot: boolean;
  /** Times a random table is re-synced (`ducktail resync`) while the workload runs. */
  resyncs: number[];
  /** Times a random pipeline is paused for a few seconds, then resumed. Absent in plans of older runs. */
  pauses?: number[];
  /** Times the lake pipelines' upkeep runs (none without a lake). Absent in plans of older runs. */
  upkeeps?: number[];
}

export interface FaultSchedule {
  durationMs: number;
  /** A fixed number of kills spread over the run (short runs)… */
  workerKills?: number;
  connKills?: number;
  /** …or one every [min, max] seconds (soak). */
  killEverySec?: [number, number];
  connKillEverySec?: [number, number];
}

function spread(rng: Prng, n: number, durationMs: number, from: number, to: number): number[] {
  return Array.from({ length: n }, () => Math.round(durationMs * (from + (to - from) * rng.float()))).sort((a, b) => a - b);
}

function every(rng: Prng, [min, max]: [number, number], durationMs: number): number[] {
  const out: number[] = [];
  for (let t = rng.int(min, max) * 1000; t < durationMs; t += rng.int(min, max) * 1000) out.push(t);
  return out;
}

export function planFaults(rng: Prng, features: Features, s: FaultSchedule): FaultPlan {
  const worker = features.faults.has('kill-worker')
    ? s.killEverySec !== undefined
      ? every(rng, s.killEverySec, s.durationMs)
      : spread(rng, s.workerKills ?? 0, s.durationMs, 0.15, 0.8)
    : [];
  const conn = features.faults.has('kill-conn')
    ? s.connKillEverySec !== undefined
      ? every(rng, s.connKillEverySec, s.durationMs)
      : spread(rng, s.connKills ?? 0, s.durationMs, 0.1, 0.9)
    : [];
  // Re-syncs: one early (it overlaps worker kills), one late (it may still run when the workload stops).
  const resyncs = features.faults.has('resync') ? spread(rng, 2, s.durationMs, 0.1, 0.7) : [];
  const pauses = features.faults.has('pause') ? spread(rng, 2, s.durationMs, 0.2, 0.8) : [];
  const upkeeps = features.faults.has('upkeep') ? spread(rng, 2, s.durationMs, 0.25, 0.9) : [];
  return { workerKills: worker, connKills: conn, duringSnapshot: features.faults.has('kill-snapshot'), resyncs, pauses, upkeeps };
}

/** Worker log lines a kill may wait for, so kills land inside a capture or a load (or anywhere). */
const MOMENTS = [null, /"msg":"load started"/, /"msg":"capture started"/, /"msg":"capture staged"/, /"msg":"load committed"/];

/**
 * Carries out a fault plan while the workload runs: SIGKILLs of the worker (a new one is started
 * at once) and kills of the pipelines' replication connections. Remembers which pipelines were
 * still snapshotting at a worker kill (their snapshot is no longer consistent: later chunks are
 * read outside the exported snapshot).
 */
export class FaultInjector {
  workerKills = 0;
  connKills = 0;
  resyncs = 0;
  /** Tables (unqualified source names) a re-sync was asked for. */
  readonly resynced = new Set<string>();
  pauses = 0;
  upkeeps = 0;
  readonly snapshotHit = new Set<string>();
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly plan: FaultPlan,
    private readonly rng: Prng,
    private readonly client: Client,
    private readonly supervisor: WorkerSupervisor,
    private readonly driver: SourceDriver,
    private readonly pipelines: string[],
    private readonly slots: string[],
    private readonly say: (line: string) => void,
    /** Called after each fault (the stall watch restarts its clocks). */
    private readonly onFault: () => void = () => undefined,
    /** Runs upkeep of the run's lakes and says what it did; null when no pipeline writes a lake. */
    private readonly upkeep: (() => Promise<string>) | null = null,
  ) {}

  start(): void {
    const started = Date.now();
    const events = [
      ...this.plan.workerKills.map((at) => ({ at, kind: 'worker' as const })),
      ...this.plan.connKills.map((at) => ({ at, kind: 'conn' as const })),
      ...this.plan.resyncs.map((at) => ({ at, kind: 'resync' as const })),
      ...(this.plan.pauses ?? []).map((at) => ({ at, kind: 'pause' as const })),
      ...(this.upkeep === null ? [] : (this.plan.upkeeps ?? [])).map((at) => ({ at, kind: 'upkeep' as const })),
    ].sort((a, b) => a.at - b.at);
    this.running = (async () => {
      if (this.plan.duringSnapshot) await this.killDuringSnapshot();
      for (const e of events) {
        while (!this.stopped && Date.now() - started < e.at) await sleep(200);
        if (this.stopped) return;
        if (e.kind === 'worker') await this.killWorker(this.rng.pick(MOMENTS));
        else if (e.kind === 'resync') await this.resync();
        else if (e.kind === 'pause') await this.pause();
        else if (e.kind === 'upkeep') await this.runUpkeep();
        else await this.killConnection(this.rng.pick([null, /"msg":"capture started"/]));
      }
    })();
  }

  /** Stops injecting and waits for a fault in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async killWorker(moment: RegExp | null): Promise<void> {
    await this.snapshotsDone();
    if (moment !== null) await this.supervisor.waitForLog(moment, 5_000);
    if (this.stopped) return;
    await this.noteSnapshots();
    await this.supervisor.crash();
    this.workerKills++;
    this.onFault();
    this.say(`fault: SIGKILL worker${moment === null ? '' : ` at ${moment.source.replace(/.*"msg":"|"$/g, '')}`}`);
  }

  /** Kills the replication connection(s), at once or right after a capture started reading. */
  private async killConnection(moment: RegExp | null): Promise<void> {
    if (moment !== null) await this.supervisor.waitForLog(moment, 5_000);
    if (this.stopped) return;
    const done = await this.driver
      .killReplication({ slots: this.slots, workerPid: this.supervisor.pid, rng: this.rng })
      .catch((err: unknown) => `failed: ${(err as Error).message}`);
    this.connKills++;
    this.onFault();
    this.say(`fault: replication connection kill${moment === null ? '' : ' in a capture'}: ${done}`);
  }

  /** Asks every pipeline to copy one random table again. */
  private async resync(): Promise<void> {
    await this.snapshotsDone();
    const tables = await this.driver.listTables();
    if (tables.length === 0 || this.stopped) return;
    const picked = this.rng.pick(tables);
    const table = `${this.driver.schema}.${picked}`;
    this.resynced.add(picked);
    for (const p of this.pipelines) {
      await pipelineHandle(this.client, p)
        .executeUpdate(resyncUpdate, { args: [{ tables: [table] }] })
        .catch((err: unknown) => this.say(`resync of ${table} in ${p} was refused: ${(err as Error).message}`));
    }
    this.resyncs++;
    this.onFault();
    this.say(`fault: resync ${table}`);
  }

  /** Pauses one random pipeline for 1–4 s, then resumes it (changes keep coming meanwhile). */
  private async pause(): Promise<void> {
    if (this.stopped || this.pipelines.length === 0) return;
    const p = this.rng.pick(this.pipelines);
    const ms = this.rng.int(1_000, 4_000);
    const handle = pipelineHandle(this.client, p);
    try {
      await handle.signal(pauseSignal);
      await sleep(ms);
    } finally {
      await handle.signal(resumeSignal).catch((err: unknown) => this.say(`resume of ${p} failed: ${(err as Error).message}`));
    }
    this.pauses++;
    this.onFault();
    this.say(`fault: pause ${p} for ${ms} ms`);
  }

  /**
   * Runs the lakes' upkeep (merges the files loads just wrote, expires all but the newest
   * snapshots, deletes what they no longer use) while loads go on; a worker kill meanwhile makes
   * it run again on the next worker, so it is not waited for beyond a minute.
   */
  private async runUpkeep(): Promise<void> {
    if (this.stopped || this.upkeep === null) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running after 60 s'), 60_000)));
    const done = await Promise.race([this.upkeep().catch((err: unknown) => `failed: ${(err as Error).message}`), late]);
    clearTimeout(timer);
    this.upkeeps++;
    this.onFault();
    this.say(`fault: lake upkeep: ${done}`);
  }

  /** SIGKILLs the worker once a pipeline has copied part of its snapshot (skipped if both finish first). */
  private async killDuringSnapshot(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!this.stopped && Date.now() < deadline) {
      const statuses = await Promise.all(this.pipelines.map((p) => statusOf(this.client, p, 2_000)));
      const copying = statuses.some((s) => s?.checkpoint?.snapshot?.tables.some((t) => t.rows > 0 || t.done) === true);
      const finished = statuses.every((s) => s !== null && s.checkpoint !== null && s.checkpoint.snapshot === undefined);
      if (finished) {
        this.say('fault: snapshot finished before the snapshot kill');
        return;
      }
      if (copying) {
        await this.noteSnapshots();
        await this.supervisor.crash();
        this.workerKills++;
        this.onFault();
        this.say('fault: SIGKILL worker during the snapshot');
        return;
      }
      await sleep(100);
    }
  }

  /**
   * Scheduled kills wait until both snapshots are complete (up to 60 s): a crash during the
   * snapshot is the `kill-snapshot` fault's business, so switching that off really avoids it.
   */
  private async snapshotsDone(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!this.stopped && Date.now() < deadline) {
      const statuses = await Promise.all(this.pipelines.map((p) => statusOf(this.client, p, 2_000)));
      if (statuses.every((s) => s !== null && s.checkpoint !== null && s.checkpoint.snapshot === undefined)) return;
      await sleep(250);
    }
  }

  private async noteSnapshots(): Promise<void> {
    const statuses = await Promise.all(this.pipelines.map((p) => statusOf(this.client, p, 2_000)));
    statuses.forEach((s, i) => {
      if (s === null || s.checkpoint === null || s.checkpoint.snapshot !== undefined) this.snapshotHit.add(this.pipelines[i]!);
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
