import { checkpointKey, type Checkpoint } from '../model/checkpoint.js';
import type { BatchLimits } from '../model/pipeline-spec.js';
import type { BatchSink, CaptureContext, CaptureOutcome, SourceConnector } from '../sources/source-connector.js';

/**
 * The longest one source capture waits when nothing arrives: a long poll is made of such slices,
 * so schema probes, re-sync chunks held back by busy writers and position moves are looked at
 * as often as before the long poll existed.
 */
export const SLICE_MS = 5_000;

/**
 * Log a capture that only moved the position (other tables' or databases' changes, keepalives)
 * may hold back before it ends its long poll, so the source can free that log soon: a burst of
 * other writes is acknowledged at once, a trickle once per long poll.
 */
export const RELEASE_BYTES = 16 * 1024 * 1024;

export interface IdlePollInput {
  source: SourceConnector;
  /** The durable checkpoint the capture starts from. */
  from: Checkpoint;
  sink: BatchSink & { readonly empty: boolean };
  /** The batch limits; `idleWaitMs` is the whole long poll's bound. */
  limits: BatchLimits;
  ctx: CaptureContext;
  /** False for catch-up runs: one slice, then the workflow checks its target. */
  longPoll: boolean;
  /** A capture from `from` already under way (the read-ahead), taken as the first slice. */
  first?: Promise<CaptureOutcome>;
}

/** The batch limits of one slice: `idleWaitMs` cut to what is left of the long poll, at most `SLICE_MS`. */
export function sliceLimits(limits: BatchLimits, leftMs = limits.idleWaitMs): BatchLimits {
  return { ...limits, idleWaitMs: Math.max(1, Math.min(SLICE_MS, leftMs)) };
}

/**
 * One capture activity's reading: a capture that finds nothing keeps waiting, slice after slice,
 * up to `limits.idleWaitMs` (long poll), so an idle pipeline costs the workflow a batch cycle a
 * minute instead of one every few seconds. It returns as soon as a slice brings anything to load
 * (rows, schema, re-sync progress: at once, as a single capture would), when the activity is
 * cancelled (the workflow has a pause, stop or re-sync to take in), or when the position alone
 * has moved `RELEASE_BYTES` past `from` (or by an amount the source cannot tell). A position-only
 * move smaller than that is returned at the end of the poll, to be loaded and acknowledged then.
 */
export async function captureWhileIdle(input: IdlePollInput): Promise<CaptureOutcome> {
  const { source, from, sink, limits, ctx } = input;
  const deadline = Date.now() + limits.idleWaitMs;
  let at = from;
  let moved: CaptureOutcome | null = null;
  for (let first = input.first; ; first = undefined) {
    const outcome = await (first ?? source.capture(at, sink, sliceLimits(limits, deadline - Date.now()), ctx));
    if (!sink.empty || !positionOnly(at, outcome)) return outcome;
    if (checkpointKey(outcome.to) !== checkpointKey(at)) {
      moved = outcome;
      at = outcome.to;
    }
    if (!input.longPoll || ctx.signal.aborted || Date.now() >= deadline - 1) break;
    if (moved !== null && releases(source, from, moved.to)) break;
  }
  return moved ?? { to: from, schemaChanges: [] };
}

/**
 * True when `outcome` moved the stream position from `at`, or nothing, and changed nothing else
 * (no schema, snapshot or re-sync progress). With an empty sink, such a batch has nothing to apply.
 */
export function positionOnly(at: Checkpoint, outcome: CaptureOutcome): boolean {
  const to = outcome.to;
  if (outcome.schemaChanges.length > 0) return false;
  if (at.position === null || at.snapshot !== undefined || to.snapshot !== undefined || to.position === null) return false;
  return checkpointKey({ ...at, position: null }) === checkpointKey({ ...to, position: null });
}

/** True when acknowledging `to` would let the source free enough log to be worth a batch now. */
function releases(source: SourceConnector, from: Checkpoint, to: Checkpoint): boolean {
  if (to.position === null) return true;
  const bytes = source.lagBytes(from, to.position);
  return bytes === null || bytes >= RELEASE_BYTES;
}

/**
 * The captures running in this worker process, by pipeline, so the workflow can end a long poll
 * at once (`interruptCapture`) rather than when the activity's cancellation reaches it with its
 * next heartbeat (heartbeats are throttled: up to 8 s). Best effort: the cancellation is the
 * guarantee, this is the fast path when the capture runs in the process the interrupt reaches.
 */
export class CaptureInterrupts {
  private readonly running = new Map<string, AbortController>();

  /** A signal aborted by `cancellation` or by `interrupt(pipeline)`; call `done` when the capture ends. */
  register(pipeline: string, cancellation: AbortSignal): { signal: AbortSignal; done(): void } {
    const local = new AbortController();
    this.running.set(pipeline, local);
    return {
      signal: AbortSignal.any([cancellation, local.signal]),
      done: () => {
        if (this.running.get(pipeline) === local) this.running.delete(pipeline);
      },
    };
  }

  /** Ends `pipeline`'s capture if one runs here; true when one did. */
  interrupt(pipeline: string): boolean {
    const local = this.running.get(pipeline);
    this.running.delete(pipeline);
    local?.abort();
    return local !== undefined;
  }
}
