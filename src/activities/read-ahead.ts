import type { Logger } from '../logger.js';
import type { Checkpoint } from '../model/checkpoint.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import type { CaptureContext, CaptureOutcome, SourceConnector } from '../sources/source-connector.js';
import { sliceLimits } from './idle-poll.js';
import { batchDir, newBatchId } from '../staging/spool-paths.js';
import { SpoolWriter } from '../staging/spool-writer.js';

/** A capture of the next batch, staged while the previous batch loads. */
export interface ReadAhead {
  batchId: string;
  writer: SpoolWriter;
  /** The checkpoint it starts from: the previous batch's end, once that batch is loaded. */
  from: Checkpoint;
  /** Resolves with the capture's outcome or its error; never rejects. */
  done: Promise<CaptureOutcome | Error>;
  /** Ties the capture to the activity that takes it over: its heartbeats and its cancellation. */
  adopt(ctx: CaptureContext): void;
  /** Stops the capture and removes what it staged. */
  discard(): Promise<void>;
}

/**
 * Captures run one after the other in the workflow, each followed by the load of its batch, so
 * the source would sit idle while DuckDB loads. After a capture has staged batch N, the next
 * batch is read ahead, from N's end, while N loads; the next capture activity takes it over when
 * it starts from that very checkpoint (N loaded), and otherwise discards it (N failed, was stale,
 * or the spec changed) and captures as usual. Nothing reaches DuckDB but through a load, and the
 * source is still acknowledged only after a load commits: the guarantees are those of a capture
 * that started a little earlier. At most one read-ahead per pipeline; it ends at the batch limits,
 * or after one slice of the long poll when nothing arrives (the activity that takes it over goes
 * on waiting, see idle-poll.ts).
 */
export class ReadAheads {
  private readonly pending = new Map<string, { spec: string; ahead: ReadAhead }>();

  constructor(private readonly logger: Logger) {}

  /** Starts reading the batch after `from` for `spec`'s pipeline. */
  async start(spec: PipelineSpec, source: SourceConnector, from: Checkpoint): Promise<void> {
    await this.drop(spec.name);
    const batchId = newBatchId();
    const writer = await SpoolWriter.create(batchDir(spec, batchId), spec.name, batchId, from);
    const abort = new AbortController();
    let beat = (): void => undefined;
    const ctx: CaptureContext = { heartbeat: () => beat(), signal: abort.signal };
    const done = source.capture(from, writer, sliceLimits(spec.batch), ctx).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    const ahead: ReadAhead = {
      batchId,
      writer,
      from,
      done,
      adopt(taker) {
        beat = () => taker.heartbeat();
        if (taker.signal.aborted) abort.abort();
        else taker.signal.addEventListener('abort', () => abort.abort(), { once: true });
      },
      async discard() {
        abort.abort();
        await done;
        await writer.abort();
      },
    };
    this.pending.set(spec.name, { spec: JSON.stringify(spec), ahead });
    this.logger.debug({ pipeline: spec.name, batchId }, 'reading the next batch ahead');
  }

  /**
   * The read-ahead of `spec`'s pipeline if it was started under the same spec (one under another
   * spec is discarded). The caller owns what it gets: it uses it only when it starts at the
   * stored checkpoint, and discards it otherwise.
   */
  async take(spec: PipelineSpec): Promise<ReadAhead | null> {
    const entry = this.pending.get(spec.name);
    this.pending.delete(spec.name);
    if (entry === undefined) return null;
    if (entry.spec === JSON.stringify(spec)) return entry.ahead;
    await entry.ahead.discard();
    return null;
  }

  /** Discards the pipeline's read-ahead, if any (before anything else uses its source). */
  async drop(pipeline: string): Promise<void> {
    const entry = this.pending.get(pipeline);
    this.pending.delete(pipeline);
    await entry?.ahead.discard();
  }
}
