import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { DevServer } from '../src/temporal/dev-server.js';
import type { BenchResult } from './result.js';
import { BenchPipeline, type BenchPipelineConfig } from './pipeline.js';

/** Workload sizes; `--quick` takes small ones so every scenario runs in under 3 minutes in all. */
export interface Sizes {
  /** Changes of a backlog (pg-backlog, mysql-backlog). */
  changes: number;
  /** Rows of a snapshot (pg-snapshot, mysql-snapshot). */
  rows: number;
  /** Tables of pg-snapshot-wide, all in one pipeline, and the rows of each. */
  wideTables: number;
  wideRows: number;
  /** Rows of the one transaction of pg-big-txn. */
  bigTxn: number;
  /** How long pg-steady offers each rate. */
  steadySeconds: number;
  steadyRates: number[];
  /** lake-workers: lake pipelines writing one lake, and the changes of all their backlogs together. */
  lakePipelines: number;
  lakeChanges: number;
}

export const FULL_SIZES: Sizes = { changes: 900_000, rows: 500_000, wideTables: 200, wideRows: 2_000, bigTxn: 1_000_000, steadySeconds: 30, steadyRates: [1_000, 10_000], lakePipelines: 4, lakeChanges: 400_000 };
export const QUICK_SIZES: Sizes = { changes: 30_000, rows: 30_000, wideTables: 200, wideRows: 150, bigTxn: 100_000, steadySeconds: 8, steadyRates: [1_000, 10_000], lakePipelines: 4, lakeChanges: 20_000 };

/** What every scenario gets: the Temporal dev server of the run, the sizes, and a scratch directory. */
export class BenchContext {
  constructor(
    readonly server: DevServer,
    readonly sizes: Sizes,
    private readonly root: string,
  ) {}

  /** A progress line on stderr (stdout carries the results). */
  say(line: string): void {
    process.stderr.write(`  ${new Date().toISOString().slice(11, 19)} ${line}\n`);
  }

  get client(): Client {
    return this.server.env.client;
  }

  /** A pipeline with its own directory (ducktail.yaml, DuckDB file, worker logs) under the run's scratch directory. */
  async pipeline(config: BenchPipelineConfig): Promise<BenchPipeline> {
    return BenchPipeline.create(this.client, this.server.address, await this.dir(config.name), config);
  }

  /** A directory `name` under the run's scratch directory (created). */
  async dir(name: string): Promise<string> {
    const dir = path.join(this.root, name);
    await mkdir(dir, { recursive: true });
    return dir;
  }
}

/** A benchmark scenario: runs its measurements (one per mode or rate) and their floors. */
export interface Scenario {
  name: string;
  /** One line: what is measured and against which floor. */
  summary: string;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}
