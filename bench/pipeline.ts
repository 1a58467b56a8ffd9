import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { stringify } from 'yaml';
import { readStatus } from '../src/cli/status.js';
import { loadConfig } from '../src/config/load-config.js';
import { isLake, type DuckDBPipelineSpec, type PipelineSpec } from '../src/model/pipeline-spec.js';
import {
  pauseSignal,
  pipelineHandle,
  queryStatus,
  resumeSignal,
  startPipelineWorkflow,
  type PipelineHandle,
  type PipelineStatus,
} from '../src/temporal/pipeline-contract.js';
import { historyEventsSince, historyMark, type HistoryEvent, type HistoryMark } from './history.js';
import { WorkerProcess, type Liveness } from './worker-process.js';

const POLL_MS = 100;
/** A pipeline whose event count has not moved for this long is reported as stuck. */
const STALL_MS = 180_000;

/** What a benchmark pipeline replicates; the rest of the spec takes ducktail.yaml's defaults. */
export interface BenchPipelineConfig {
  name: string;
  source: Record<string, unknown>;
  mode: 'merge' | 'append';
}

/**
 * One pipeline as a user runs it: a ducktail.yaml in `dir` (defaults from src/config), workers
 * started as `ducktail worker` processes, and the workflow driven through the pipeline contract.
 * `S` is the spec's type: a DuckDB file's by default, any (a lake's) for `fromConfig`.
 */
export class BenchPipeline<S extends PipelineSpec = DuckDBPipelineSpec> {
  readonly handle: PipelineHandle;
  private workers = 0;
  private startedRunId: string | null = null;

  private constructor(
    readonly spec: S,
    readonly configFile: string,
    private readonly client: Client,
    private readonly address: string,
  ) {
    this.handle = pipelineHandle(client, spec.name);
  }

  /** Writes the pipeline's ducktail.yaml into `dir` (the DuckDB file goes there too) and reads it back. */
  static async create(client: Client, address: string, dir: string, config: BenchPipelineConfig): Promise<BenchPipeline> {
    const configFile = path.join(dir, 'ducktail.yaml');
    const pipeline = { name: config.name, source: config.source, destination: { path: `${config.name}.duckdb` }, mode: config.mode };
    await writeFile(configFile, stringify({ temporal: { taskQueue: `bench-${config.name}` }, pipelines: [pipeline] }));
    const [spec] = (await loadConfig(configFile)).pipelines;
    if (spec === undefined) throw new Error(`${configFile} holds no pipeline`);
    const { destination } = spec;
    if (isLake(destination)) throw new Error(`${configFile}: benchmarks load DuckDB files, not lakes`);
    return new BenchPipeline({ ...spec, destination }, configFile, client, address);
  }

  /** Every pipeline of a ducktail.yaml written by the caller (several pipelines on one task queue, say). */
  static async fromConfig(client: Client, address: string, configFile: string): Promise<BenchPipeline<PipelineSpec>[]> {
    const { pipelines } = await loadConfig(configFile);
    return pipelines.map((spec) => new BenchPipeline<PipelineSpec>(spec, configFile, client, address));
  }

  /** A fresh `ducktail worker` process for this pipeline's task queue (logging to a file next to the config). */
  startWorker(): Promise<WorkerProcess> {
    return this.startWorkerLogging(`worker-${++this.workers}.log`);
  }

  /** A fresh `ducktail worker` process for this pipeline's config, logging to `logName` next to it, with `env` added to its environment. */
  startWorkerLogging(logName: string, env: NodeJS.ProcessEnv = {}): Promise<WorkerProcess> {
    return WorkerProcess.start(this.configFile, this.address, path.join(path.dirname(this.configFile), logName), env);
  }

  async start(): Promise<void> {
    const config = await loadConfig(this.configFile);
    const handle = await startPipelineWorkflow(this.client, config.temporal.taskQueue, { spec: this.spec });
    // Just started: the latest run is the first (a continue-as-new needs many batches).
    this.startedRunId = (await handle.describe()).runId;
  }

  /** The run `start` started. */
  firstRunId(): string {
    if (this.startedRunId === null) throw new Error(`${this.spec.name} was not started`);
    return this.startedRunId;
  }

  status(): Promise<PipelineStatus> {
    return queryStatus(this.handle);
  }

  /** Polls the status (every `pollMs`) until `ok`; fails on a pipeline error, a dead worker, or no progress for 3 minutes. */
  async until(worker: Liveness, what: string, ok: (s: PipelineStatus) => boolean, pollMs = POLL_MS): Promise<PipelineStatus> {
    let events = -1;
    let movedAt = Date.now();
    for (;;) {
      await worker.assertRunning();
      const s = await this.status();
      if (s.lastError !== null) throw new Error(`${this.spec.name} failed while waiting for ${what}: ${s.lastError.type}: ${s.lastError.message}`);
      if (ok(s)) return s;
      if (s.events !== events) [events, movedAt] = [s.events, Date.now()];
      if (Date.now() - movedAt > STALL_MS) throw new Error(`${this.spec.name} made no progress towards ${what} for ${STALL_MS / 1000} s: ${await this.describeStall(s)}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** Pauses and waits until the workflow is paused (the batch in flight loaded). */
  async pause(worker: Liveness): Promise<PipelineStatus> {
    await this.handle.signal(pauseSignal);
    return this.until(worker, 'the pause', (s) => s.phase === 'paused');
  }

  async resume(): Promise<void> {
    await this.handle.signal(resumeSignal);
  }

  /** Where the workflow's history ends now: the measured part's events come after it. */
  historyMark(): Promise<HistoryMark> {
    return historyMark(this.handle);
  }

  historyEventsSince(mark: HistoryMark): Promise<HistoryEvent[]> {
    return historyEventsSince(this.client, this.handle.workflowId, mark);
  }

  /** Ends the workflow at once (a graceful cancel would wait for the capture in flight). */
  async terminate(reason = 'benchmark measured'): Promise<void> {
    await this.handle.terminate(reason);
  }

  private async describeStall(s: PipelineStatus): Promise<string> {
    const row = await readStatus(this.client, this.spec.name).catch(() => null);
    const retrying = row?.retrying;
    if (retrying != null) return `${retrying.activity} is retrying (attempt ${retrying.attempt}): ${retrying.error}`;
    return `phase ${s.phase}, step ${s.step?.activity ?? 'none'}, ${s.events} events`;
  }
}
