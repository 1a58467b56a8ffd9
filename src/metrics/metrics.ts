import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OpCounts } from '../model/batch.js';

/** The two activities a batch goes through. */
export type BatchStep = 'capture' | 'load';

/**
 * What the worker records about its pipelines, one call per fact. Recorded in activities (the
 * worker process), never in workflow code, so a replayed workflow counts nothing twice.
 */
export interface PipelineMetrics {
  /** Log bytes between the pipeline's durable position and the source's end of log. */
  lagBytes(pipeline: string, bytes: number): void;
  /** Seconds from the commit of the newest loaded change to its load (0 when caught up). */
  lagSeconds(pipeline: string, seconds: number): void;
  /** A batch committed to DuckDB (not one skipped as already applied): its changes per table and operation. */
  batchLoaded(pipeline: string, counts: Record<string, OpCounts>): void;
  /** How long a capture that staged a batch, or a load, took. */
  stepDuration(pipeline: string, step: BatchStep, seconds: number): void;
  /** An activity attempt failed with this failure type (`ApplicationFailure` type, else the error's name). */
  failure(pipeline: string, type: string): void;
  /** WAL (PostgreSQL) or binlog (MySQL/MariaDB) bytes the source keeps for the pipeline. */
  sourceRetained(pipeline: string, bytes: number): void;
}

/** Seconds: small test batches take milliseconds, a 100k-change capture a few seconds. */
const DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Ducktail's Prometheus series (and the Node process's default ones) in a registry of their own. */
export class DucktailMetrics implements PipelineMetrics {
  readonly registry = new Registry();
  private readonly lagBytesGauge: Gauge<'pipeline'>;
  private readonly lagSecondsGauge: Gauge<'pipeline'>;
  private readonly changes: Counter<'pipeline' | 'table' | 'op'>;
  private readonly batches: Counter<'pipeline'>;
  private readonly durations: Histogram<'pipeline' | 'step'>;
  private readonly failures: Counter<'pipeline' | 'type'>;
  private readonly retained: Gauge<'pipeline'>;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.lagBytesGauge = new Gauge({
      name: 'ducktail_lag_bytes',
      help: "Log bytes between the pipeline's durable position and the source's end of log, seen at the start of the last capture",
      labelNames: ['pipeline'],
      registers,
    });
    this.lagSecondsGauge = new Gauge({
      name: 'ducktail_lag_seconds',
      help: 'Seconds from the commit of the newest loaded change to its load; 0 when a capture found nothing new',
      labelNames: ['pipeline'],
      registers,
    });
    this.changes = new Counter({
      name: 'ducktail_changes_total',
      help: 'Changes loaded into DuckDB, by source table and operation (snapshot, insert, update, delete, truncate)',
      labelNames: ['pipeline', 'table', 'op'],
      registers,
    });
    this.batches = new Counter({
      name: 'ducktail_batches_total',
      help: 'Batches committed to DuckDB (a replayed batch skipped as already applied is not counted)',
      labelNames: ['pipeline'],
      registers,
    });
    this.durations = new Histogram({
      name: 'ducktail_batch_duration_seconds',
      help: 'Duration of successful capture (of a batch with something in it) and load activities',
      labelNames: ['pipeline', 'step'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.failures = new Counter({
      name: 'ducktail_failures_total',
      help: 'Failed activity attempts, by failure type (a retried failure counts once per attempt)',
      labelNames: ['pipeline', 'type'],
      registers,
    });
    this.retained = new Gauge({
      name: 'ducktail_source_retained_bytes',
      help: 'WAL (PostgreSQL) or binlog (MySQL/MariaDB) bytes the source keeps for the pipeline',
      labelNames: ['pipeline'],
      registers,
    });
  }

  lagBytes(pipeline: string, bytes: number): void {
    this.lagBytesGauge.set({ pipeline }, bytes);
  }

  lagSeconds(pipeline: string, seconds: number): void {
    this.lagSecondsGauge.set({ pipeline }, seconds);
  }

  batchLoaded(pipeline: string, counts: Record<string, OpCounts>): void {
    this.batches.inc({ pipeline });
    for (const [table, ops] of Object.entries(counts)) {
      for (const [op, n] of Object.entries(ops)) {
        if (n !== undefined && n > 0) this.changes.inc({ pipeline, table, op }, n);
      }
    }
  }

  stepDuration(pipeline: string, step: BatchStep, seconds: number): void {
    this.durations.observe({ pipeline, step }, seconds);
  }

  failure(pipeline: string, type: string): void {
    this.failures.inc({ pipeline, type });
  }

  sourceRetained(pipeline: string, bytes: number): void {
    this.retained.set({ pipeline }, bytes);
  }

  /** The Prometheus text exposition of every series. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** Names of the registered metrics (a histogram's series add `_bucket`, `_sum` and `_count`). */
  names(): string[] {
    return this.registry.getMetricsAsArray().map((m) => m.name);
  }
}
