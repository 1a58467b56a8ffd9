import ZongJi, { type AnyBinlogEvent } from '@vlasky/zongji';
import type { ConnectionOptions } from 'mysql2';
import { SourceConnectionError, SourceSettingError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { BinlogDecoder, type Cursor, type StreamItem } from './mysql-decoder.js';
import { toDucktailError } from './mysql-errors.js';
import type { ErrorContext } from '../source-errors.js';
import { Fifo } from '../../util/fifo.js';
import { WATERMARK_TABLE } from '../backfill.js';
import type { TableSelection } from '../table-selection.js';

export interface BinlogStreamOptions {
  connection: ConnectionOptions;
  serverId: number;
  /** The captured tables (zongji's filter and the decoder's). */
  selection: TableSelection;
  /** Items (bytes) held before the reader is stopped to apply backpressure. */
  maxQueueBytes: number;
  errorContext: ErrorContext;
  logger: Logger;
  /** Server heartbeat period while idle; the connection counts as dead after `deadAfterMs` of silence. */
  heartbeatMs?: number;
  deadAfterMs?: number;
}

const EVENTS = ['rotate', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'xaprepare', 'query', 'mariadbgtid', 'heartbeat'];
const MAX_RECONNECTS = 5;

/**
 * One binlog reader (zongji) kept open across captures, with a byte-bounded queue in front.
 * zongji cannot pause, so a full queue stops it and a drained queue restarts it at the cursor
 * after the last queued item (skipping the events of a split transaction already queued).
 * A lost or silent connection is restarted from the same place; `cursor` is always after the
 * last item handed out by `next`.
 */
export class BinlogStream {
  cursor: Cursor;
  private zongji: ZongJi | null = null;
  private epoch = 0;
  private readonly queue = new Fifo<StreamItem>();
  private queueBytes = 0;
  private stoppedForSpace = false;
  private failure: Error | null = null;
  private reconnects = 0;
  private lastSeen = Date.now();
  private wake: (() => void) | null = null;
  private readonly watchdog: NodeJS.Timeout;
  private restartTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** An item handed out and given back (`unread`): the next `next` returns it first. */
  private held: StreamItem | null = null;

  constructor(private readonly opts: BinlogStreamOptions, start: Cursor) {
    this.cursor = { ...start };
    this.start(start);
    this.watchdog = setInterval(() => this.checkAlive(), 1000);
    this.watchdog.unref();
  }

  /**
   * Gives back `item`, the last one `next` returned, with the cursor from before it: a capture that
   * ends its batch before an item leaves it for the next batch.
   */
  unread(item: StreamItem, before: Cursor): void {
    this.held = item;
    this.cursor = { ...before };
  }

  /** The next item, or null after `waitMs` without one. Throws when the stream failed for good. */
  async next(waitMs: number, signal: AbortSignal): Promise<StreamItem | null> {
    const ready = this.take();
    if (ready !== null) return ready;
    if (this.queue.length === 0 && this.failure === null && waitMs > 0 && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.wake = null;
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        signal.addEventListener('abort', done);
        this.wake = done;
      });
    }
    const item = this.take();
    if (item === null && this.failure !== null) throw this.failure;
    return item;
  }

  /** The next item if one is held or queued, else null (at once; `next` waits and reports failures). */
  take(): StreamItem | null {
    const held = this.held;
    if (held !== null) {
      this.held = null;
      this.cursor = held.after;
      return held;
    }
    const item = this.queue.shift();
    if (item === undefined) return null;
    this.queueBytes -= item.bytes;
    this.cursor = item.after;
    if (this.stoppedForSpace && this.queueBytes < this.opts.maxQueueBytes / 2) {
      this.stoppedForSpace = false;
      this.start(this.tail());
    }
    return item;
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    await this.stopReader();
    this.queue.clear();
    this.held = null;
    this.wake?.();
  }

  private start(from: Cursor): void {
    const epoch = ++this.epoch;
    const z = new ZongJi({ ...this.opts.connection });
    this.zongji = z;
    this.lastSeen = Date.now();
    // The re-sync's watermark rows come through too (see src/sources/backfill.ts).
    const selected = (db: string, table: string): boolean => table === WATERMARK_TABLE || this.opts.selection.includes(db, table);
    const decoder = new BinlogDecoder(from, selected, (item) => this.push(item, epoch));
    z.on('binlog', (event: AnyBinlogEvent) => {
      if (epoch !== this.epoch) return;
      this.lastSeen = Date.now();
      this.reconnects = 0;
      try {
        decoder.handle(event);
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
    z.on('ready', () => (this.lastSeen = Date.now()));
    z.on('error', (err: Error) => this.onError(err, epoch, from));
    z.start({
      serverId: this.opts.serverId,
      filename: from.file,
      position: from.pos,
      includeEvents: EVENTS,
      includeSchema: includeSchema(this.opts.selection),
    });
    // Queued on the binlog connection before zongji's dump command, which waits for its own set-up queries.
    const period = (this.opts.heartbeatMs ?? 2000) * 1_000_000;
    z.connection?.query(`SET @master_heartbeat_period = ${period}`, () => undefined);
    this.opts.logger.debug({ file: from.file, pos: from.pos, seq: from.seq }, 'binlog reader started');
  }

  private push(item: StreamItem, epoch: number): void {
    if (epoch !== this.epoch) return;
    const last = this.queue.last();
    if (item.kind === 'commit' && last?.kind === 'commit') {
      last.after = item.after; // boundaries without changes collapse into the latest
    } else {
      this.queue.push(item);
      this.queueBytes += item.bytes;
    }
    if (this.queueBytes > this.opts.maxQueueBytes && !this.stoppedForSpace) {
      this.stoppedForSpace = true;
      this.epoch++; // whatever the stopped reader still delivers is read again after the restart
      void this.stopReader();
    }
    this.wake?.();
  }

  private onError(err: Error, epoch: number, from: Cursor): void {
    if (epoch !== this.epoch || this.closed) return;
    const mapped = toDucktailError(err, { ...this.opts.errorContext, position: `${from.file}:${from.pos}` });
    if (/binlog_transaction_compression|PARTIAL_JSON/i.test(err.message)) {
      return this.fail(new SourceSettingError(err.message, 'turn the setting off (see preflight) and re-snapshot the tables changed meanwhile'));
    }
    const retryable = mapped instanceof SourceConnectionError && !mapped.nonRetryable;
    if (!retryable || this.reconnects >= MAX_RECONNECTS) return this.fail(mapped);
    this.reconnects++;
    this.opts.logger.warn({ err: err.message, attempt: this.reconnects }, 'binlog connection lost; reconnecting');
    this.restartFromTail(Math.min(500 * 2 ** this.reconnects, 10_000));
  }

  /** Restarts the reader after the last queued item (the cursor when the queue is empty). */
  private restartFromTail(delayMs: number): void {
    this.epoch++; // silence the old reader at once
    void this.stopReader();
    const tail = this.tail();
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.closed && !this.stoppedForSpace) this.start(tail);
    }, delayMs);
    this.restartTimer.unref();
  }

  /** The cursor after the last queued item: where a restarted reader continues. */
  private tail(): Cursor {
    return this.queue.last()?.after ?? this.held?.after ?? this.cursor;
  }

  private checkAlive(): void {
    const silentFor = Date.now() - this.lastSeen;
    if (this.zongji === null || this.stoppedForSpace || this.closed || silentFor < (this.opts.deadAfterMs ?? 20_000)) return;
    this.opts.logger.warn({ silentMs: silentFor }, 'binlog connection silent past the heartbeat period; reconnecting');
    this.lastSeen = Date.now();
    this.onError(Object.assign(new Error('binlog connection silent'), { code: 'PROTOCOL_SEQUENCE_TIMEOUT' }), this.epoch, this.cursor);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.epoch++;
    void this.stopReader();
    this.wake?.();
  }

  private async stopReader(): Promise<void> {
    const z = this.zongji;
    this.zongji = null;
    if (z === null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      z.once('stopped', () => {
        clearTimeout(t);
        resolve();
      });
      z.stop();
    });
    z.removeAllListeners('binlog');
  }
}

/** zongji's `includeSchema` filter for a selection: whole databases, or lists of tables. */
function includeSchema(selection: TableSelection): Record<string, string[] | true> {
  const filter: Record<string, string[] | true> = {};
  for (const db of selection.wildcards) filter[db] = true;
  for (const t of selection.exact) {
    const cur = filter[t.schema];
    if (cur !== true) filter[t.schema] = [...(cur ?? []), t.name];
  }
  for (const [db, tables] of Object.entries(filter)) if (tables !== true) filter[db] = [...tables, WATERMARK_TABLE];
  return filter;
}
