/**
 * What a batch cycle's Temporal history is made of: the encoded events from one `captureBatch`
 * being scheduled to the next, split into the activity inputs and results (their JSON payloads)
 * and the rest, with the parts of those payloads that grow with the number of tables named.
 */
import { eventBytes, type HistoryEvent } from './history.js';

/** Bytes of one batch cycle's history, by part. */
export interface CycleParts {
  total: number;
  /** JSON payloads of the captureBatch and loadBatch inputs and results. */
  captureInput: number;
  captureResult: number;
  loadInput: number;
  loadResult: number;
  /** Everything else: event framing, workflow task events, activity started events, payload metadata, timeouts and retry policies. */
  events: number;
  /** Of the payloads: the pipeline spec, in both activity inputs. */
  spec: number;
  /** Of the payloads: the checkpoint's snapshot progress (`checkpoint.snapshot`), in both activity results. */
  snapshotProgress: number;
  /** Of the payloads: per-table, per-operation counts (the batch summary's in the capture result and the load input, and the load result's). */
  counts: number;
  /** Of the payloads: the batch summary's schema changes (capture result, load input). */
  schemaChanges: number;
}

export interface HistoryBreakdown {
  /** Complete batch cycles: a capture that staged a batch, and its load. */
  cycles: number;
  meanCycleBytes: number;
  maxCycleBytes: number;
  /** Bytes outside complete cycles: the workflow's start, preparePipeline, empty captures, a capture in flight at the end. */
  otherBytes: number;
  /** Each complete cycle's bytes, in order. */
  cycleBytes: number[];
  /** Mean bytes per complete cycle, by part. */
  mean: CycleParts;
  /** The largest cycle, by part. */
  max: CycleParts;
}

const emptyParts = (): CycleParts => ({
  total: 0,
  captureInput: 0,
  captureResult: 0,
  loadInput: 0,
  loadResult: 0,
  events: 0,
  spec: 0,
  snapshotProgress: 0,
  counts: 0,
  schemaChanges: 0,
});

const jsonBytes = (value: unknown): number => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value)));

interface Payloads {
  payloads?: { data?: Uint8Array | null }[] | null;
}

/** The first payload's data bytes and its JSON value (activities take one argument and return one value). */
function firstPayload(p: Payloads | null | undefined): { bytes: number; value: Record<string, unknown> } {
  const data = p?.payloads?.[0]?.data;
  if (data == null) return { bytes: 0, value: {} };
  const value: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
  return { bytes: data.byteLength, value: value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {} };
}

const snapshotOf = (v: Record<string, unknown>): unknown => (v.checkpoint as { snapshot?: unknown } | null | undefined)?.snapshot;

/** Adds the counts and schema changes of a batch summary (capture result, load input) to `cycle`. */
function addBatchSummary(cycle: CycleParts, batch: unknown): void {
  const b = batch as { counts?: unknown; schemaChanges?: unknown } | null | undefined;
  cycle.counts += jsonBytes(b?.counts);
  cycle.schemaChanges += jsonBytes(b?.schemaChanges);
}

/** Adds one event's bytes to `cycle`, attributing its payload to the activity input or result it carries. */
function addEvent(cycle: CycleParts, event: HistoryEvent, activityOf: Map<string, string>): { loaded: boolean } {
  const bytes = eventBytes(event);
  cycle.total += bytes;
  let payload = 0;
  let loaded = false;
  const scheduled = event.activityTaskScheduledEventAttributes;
  const completed = event.activityTaskCompletedEventAttributes;
  if (scheduled != null) {
    const { bytes: n, value } = firstPayload(scheduled.input);
    payload = n;
    if (scheduled.activityType?.name === 'captureBatch') cycle.captureInput += n;
    if (scheduled.activityType?.name === 'loadBatch') {
      cycle.loadInput += n;
      addBatchSummary(cycle, value.batch);
    }
    if (scheduled.activityType?.name === 'captureBatch' || scheduled.activityType?.name === 'loadBatch') cycle.spec += jsonBytes(value.spec);
  } else if (completed != null) {
    const activity = activityOf.get(String(completed.scheduledEventId));
    const { bytes: n, value } = firstPayload(completed.result);
    payload = n;
    if (activity === 'captureBatch') {
      cycle.captureResult += n;
      addBatchSummary(cycle, value.batch);
    }
    if (activity === 'loadBatch') {
      cycle.loadResult += n;
      cycle.counts += jsonBytes(value.counts);
      loaded = true;
    }
    if (activity === 'captureBatch' || activity === 'loadBatch') cycle.snapshotProgress += jsonBytes(snapshotOf(value));
  }
  cycle.events += bytes - payload;
  return { loaded };
}

/**
 * Splits a measured part's history into batch cycles (each from a `captureBatch` being
 * scheduled to the next) and sums their parts; cycles without a completed load are counted as
 * `otherBytes`.
 */
export function breakDownHistory(events: HistoryEvent[]): HistoryBreakdown {
  const activityOf = new Map<string, string>();
  const cycles: CycleParts[] = [];
  let otherBytes = 0;
  let current: { parts: CycleParts; loaded: boolean } | null = null;
  const close = (): void => {
    if (current === null) return;
    if (current.loaded) cycles.push(current.parts);
    else otherBytes += current.parts.total;
  };
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled != null) activityOf.set(String(event.eventId), scheduled.activityType?.name ?? '');
    if (scheduled?.activityType?.name === 'captureBatch') {
      close();
      current = { parts: emptyParts(), loaded: false };
    }
    if (current === null) {
      otherBytes += eventBytes(event);
      continue;
    }
    if (addEvent(current.parts, event, activityOf).loaded) current.loaded = true;
  }
  close();
  const mean = emptyParts();
  for (const cycle of cycles) for (const key of Object.keys(mean) as (keyof CycleParts)[]) mean[key] += cycle[key] / cycles.length;
  for (const key of Object.keys(mean) as (keyof CycleParts)[]) mean[key] = Math.round(mean[key]);
  const max = cycles.reduce((a, b) => (b.total > a.total ? b : a), emptyParts());
  return { cycles: cycles.length, meanCycleBytes: mean.total, maxCycleBytes: max.total, otherBytes, cycleBytes: cycles.map((c) => c.total), mean, max };
}

/** The breakdowns of several workflows' histories (pipelines measured together) as one: all their cycles. */
export function mergeBreakdowns(parts: HistoryBreakdown[]): HistoryBreakdown {
  const cycles = parts.reduce((n, b) => n + b.cycles, 0);
  const mean = emptyParts();
  const keys = Object.keys(mean) as (keyof CycleParts)[];
  for (const b of parts) for (const key of keys) mean[key] += cycles === 0 ? 0 : (b.mean[key] * b.cycles) / cycles;
  for (const key of keys) mean[key] = Math.round(mean[key]);
  const max = parts.reduce((a, b) => (b.max.total > a.total ? b.max : a), emptyParts());
  return {
    cycles,
    meanCycleBytes: mean.total,
    maxCycleBytes: max.total,
    otherBytes: parts.reduce((n, b) => n + b.otherBytes, 0),
    cycleBytes: parts.flatMap((b) => b.cycleBytes),
    mean,
    max,
  };
}
