import type { BatchLimits } from '../model/pipeline-spec.js';

/** How long a read may wait when nothing has arrived yet, or inside a transaction. */
const POLL_MS = 1_000;
/** A batch with changes closes once the stream has been quiet this long between transactions. */
const QUIET_MS = 100;

/**
 * When a batch closes, for every source's change stream. A batch closes:
 * - between transactions, once `maxRows`/`maxBytes` are reached or `maxWaitMs` has passed since
 *   its first event (a transaction that is being read is finished first);
 * - mid-transaction only when that transaction's own events reach the limits (`wrote` says so:
 *   the rest follows in the next batch);
 * - between transactions once nothing has arrived for `QUIET_MS` after its first event (the
 *   backlog is drained: load what there is);
 * - after `idleWaitMs` with nothing written.
 *
 * A stream loop asks `closeNow()` before each read, reads with `waitMs()`, calls `drained()` when
 * the read returned nothing, and tells the rules what it read (`begin`, `wrote`, `end`).
 */
export class BatchRules {
  private readonly started = Date.now();
  private readonly startBytes: number;
  private firstAt: number | null = null;
  private written = 0;
  private txnEvents = 0;
  private txnStartBytes: number;
  private txnOpen = false;

  constructor(
    private readonly limits: BatchLimits,
    private readonly sink: { readonly bytes: number },
  ) {
    this.startBytes = sink.bytes;
    this.txnStartBytes = sink.bytes;
  }

  /** A transaction begins (or the batch starts inside one): its own events count towards the one-transaction limit from here. */
  begin(): void {
    this.txnOpen = true;
    this.txnEvents = 0;
    this.txnStartBytes = this.sink.bytes;
  }

  /** The open transaction ended (a commit, or a schema change that is a transaction of its own). */
  end(): void {
    this.txnOpen = false;
    this.txnEvents = 0;
    this.txnStartBytes = this.sink.bytes;
  }

  /** One event was written; true when its transaction alone has reached the limits, so the batch ends right after it. */
  wrote(): boolean {
    if (!this.txnOpen) this.begin();
    this.written++;
    this.txnEvents++;
    this.firstAt ??= Date.now();
    return this.txnEvents >= this.limits.maxRows || this.sink.bytes - this.txnStartBytes >= this.limits.maxBytes;
  }

  /** True inside a transaction (between `begin`, or a first `wrote`, and `end`). */
  get inTransaction(): boolean {
    return this.txnOpen;
  }

  /** True once the batch has an event. */
  get hasEvents(): boolean {
    return this.firstAt !== null;
  }

  /** True when the batch should close before the next read: between transactions, and full or out of time. */
  closeNow(): boolean {
    return !this.txnOpen && (Date.now() >= this.deadline() || this.full());
  }

  /** How long the next read may wait for something to arrive. */
  waitMs(): number {
    if (this.txnOpen) return POLL_MS;
    return Math.max(1, Math.min(this.firstAt === null ? POLL_MS : QUIET_MS, this.deadline() - Date.now()));
  }

  /** A read returned nothing: true when the batch should close now (quiet between transactions after its first event). */
  drained(): boolean {
    return !this.txnOpen && this.firstAt !== null;
  }

  private full(): boolean {
    return this.written >= this.limits.maxRows || this.sink.bytes - this.startBytes >= this.limits.maxBytes;
  }

  private deadline(): number {
    return this.firstAt === null ? this.started + this.limits.idleWaitMs : this.firstAt + this.limits.maxWaitMs;
  }
}

/**
 * How many rows a snapshot batch may copy: at most one chunk (`chunkRows`) and the batch limits;
 * every source's chunk reader stops at `exhausted()` and reads no more than `rowsLeft()` at once.
 */
export class SnapshotBudget {
  private readonly startBytes: number;
  private rows = 0;

  constructor(
    private readonly limits: BatchLimits,
    private readonly chunkRows: number,
    private readonly sink: { readonly bytes: number },
  ) {
    this.startBytes = sink.bytes;
  }

  /** Rows this batch may still copy (at least 1 until exhausted). */
  rowsLeft(): number {
    return Math.max(0, Math.min(this.chunkRows, this.limits.maxRows) - this.rows);
  }

  /** Records copied rows. */
  copied(rows: number): void {
    this.rows += rows;
  }

  /** True when the batch holds the bytes it may. */
  overBytes(): boolean {
    return this.sink.bytes - this.startBytes >= this.limits.maxBytes;
  }

  /** True when the batch holds what it may: rows or bytes. */
  exhausted(): boolean {
    return this.rowsLeft() <= 0 || this.overBytes();
  }
}
