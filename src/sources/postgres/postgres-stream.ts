import type pg from 'pg';
import { LogicalReplicationService, type Pgoutput } from 'pg-logical-replication';
import type { Logger } from '../../logger.js';
import { isSlotActiveError, toDucktailError } from './postgres-errors.js';
import { messageBytes, TextPgoutputPlugin } from './postgres-decoder.js';
import { formatLsn } from './postgres-position.js';
import { Fifo } from '../../util/fifo.js';

/** A decoded pgoutput message, or a keepalive saying the server has decoded everything before `walEnd`. */
export type StreamItem = { kind: 'message'; message: Pgoutput.Message } | { kind: 'keepalive'; walEnd: string };

export interface StreamOptions {
  client: pg.ClientConfig;
  slot: string;
  publication: string;
  logger: Logger;
  /** Decoded messages held before the socket is paused (TCP backpressure); default 16 MiB of counted bytes (several times that in memory). */
  maxQueueBytes?: number;
  /** How long to retry "replication slot is active" (a previous walsender still exiting). */
  slotBusyTimeoutMs?: number;
  /** Ask for logical decoding messages (PostgreSQL 14+), which carry the DDL trigger's shapes. */
  messages?: boolean;
}

const STATUS_INTERVAL_MS = 10_000;

/**
 * One open logical replication stream with a byte-bounded queue. Acknowledges only what it is
 * told is durable (`acknowledge`), answers keepalives with that, and sends a status update every
 * 10 s so `wal_sender_timeout` never drops a paused pipeline.
 */
export class PgReplicationStream {
  private readonly queue = new Fifo<{ item: StreamItem; bytes: number }>();
  private queuedBytes = 0;
  private itemWaiter: (() => void) | null = null;
  private spaceWaiters: (() => void)[] = [];
  private failure: Error | null = null;
  private closed = false;
  private delivered = 0;
  private pendingKeepalive: { walEnd: string; after: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly plugin: TextPgoutputPlugin;
  private readonly service: LogicalReplicationService;
  private readonly maxQueueBytes: number;

  private constructor(
    private readonly options: StreamOptions,
    private durableAck: bigint,
  ) {
    this.maxQueueBytes = options.maxQueueBytes ?? 16 * 1024 * 1024;
    this.plugin = new TextPgoutputPlugin({ protoVersion: 1, publicationNames: [options.publication], messages: options.messages === true });
    // timeoutSeconds 0: otherwise the library acks the last *received* LSN on a timer.
    this.service = new LogicalReplicationService(options.client, { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } });
    this.service.on('error', (e) => this.fail(e));
    this.service.on('data', (_lsn: string, message: Pgoutput.Message) => this.push(message));
    this.service.on('heartbeat', (walEnd: string, _ts: number, shouldRespond: boolean) => {
      this.onKeepalive(walEnd);
      if (shouldRespond) this.sendStatus(false);
    });
  }

  /** Starts streaming from `startLsn` (the durable ack LSN), retrying while the slot is still busy. */
  static async open(options: StreamOptions, startLsn: bigint, signal: AbortSignal): Promise<PgReplicationStream> {
    const deadline = Date.now() + (options.slotBusyTimeoutMs ?? 30_000);
    for (let delay = 250; ; delay = Math.min(delay * 2, 2_000)) {
      const stream = new PgReplicationStream(options, startLsn);
      try {
        await stream.start(startLsn);
        return stream;
      } catch (e) {
        await stream.close();
        if (!isSlotActiveError(e) || Date.now() + delay > deadline || signal.aborted) throw toDucktailError(e, { doing: `starting replication from slot ${options.slot}` });
        options.logger.info({ slot: options.slot, delay }, 'replication slot still active; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async start(startLsn: bigint): Promise<void> {
    const started = new Promise<void>((resolve) => this.service.once('start', () => resolve()));
    const running = this.service.subscribe(this.plugin, this.options.slot, formatLsn(startLsn));
    const ended = running.then(
      () => {
        throw new Error('the replication stream ended');
      },
      (e: unknown) => {
        throw e;
      },
    );
    ended.catch((e: unknown) => this.fail(e instanceof Error ? e : new Error(String(e))));
    await Promise.race([started, ended]);
    this.timer = setInterval(() => this.sendStatus(true), STATUS_INTERVAL_MS);
    this.timer.unref();
  }

  /** The next item, or null after `timeoutMs` without one. Throws if the stream failed. */
  async next(timeoutMs: number): Promise<StreamItem | null> {
    if (this.queue.length === 0 && this.failure === null && timeoutMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        this.itemWaiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.itemWaiter = null;
    }
    const item = this.take();
    if (item === null && this.failure !== null) throw toDucktailError(this.failure, { doing: `reading replication slot ${this.options.slot}` });
    return item;
  }

  /** The next item if one is queued, else null (at once; `next` waits and reports failures). */
  take(): StreamItem | null {
    const entry = this.queue.shift();
    if (entry === undefined) return null;
    this.queuedBytes -= entry.bytes;
    if (this.queuedBytes <= this.maxQueueBytes / 2) this.releaseSpace();
    return entry.item;
  }

  /** Records that everything up to `lsn` is durable and tells the server at once. Never moves back. */
  acknowledge(lsn: bigint): void {
    if (lsn > this.durableAck) this.durableAck = lsn;
    this.sendStatus(false);
  }

  /** Asks the server for a keepalive (carrying its decoded WAL end). */
  requestKeepalive(): void {
    this.sendStatus(true);
  }

  /** Bytes of decoded messages waiting to be read. */
  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.releaseSpace();
    await this.service.destroy().catch(() => undefined);
  }

  private sendStatus(ping: boolean): void {
    if (this.closed || this.durableAck <= 0n || this.service.isStop()) return;
    // The library reports lsn + 1 ("last byte + 1"); PostgreSQL then resumes decoding at that LSN,
    // which would skip a transaction committed exactly at our ack point. Compensate.
    this.service.acknowledge(formatLsn(this.durableAck - 1n), ping).catch((e: unknown) => this.fail(e as Error));
  }

  private async push(message: Pgoutput.Message): Promise<void> {
    this.delivered++;
    // A logical message's content is a view into the connection's read buffer, which the next
    // data overwrites: keep a copy while it waits in the queue.
    if (message.tag === 'message') message.content = Uint8Array.from(message.content);
    this.enqueue({ kind: 'message', message }, messageBytes(message));
    const pending = this.pendingKeepalive;
    if (pending !== null && this.delivered >= pending.after) {
      this.pendingKeepalive = null;
      this.enqueue({ kind: 'keepalive', walEnd: pending.walEnd }, 32);
    }
    while (this.queuedBytes > this.maxQueueBytes && !this.closed) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
  }

  // Keepalives bypass the library's queue, so one may overtake data parsed before it: hold it
  // until every message parsed before it has been queued.
  private onKeepalive(walEnd: string): void {
    if (this.plugin.parsed === this.delivered) this.enqueue({ kind: 'keepalive', walEnd }, 32);
    else this.pendingKeepalive = { walEnd, after: this.plugin.parsed };
  }

  private enqueue(item: StreamItem, bytes: number): void {
    if (this.closed) return;
    this.queue.push({ item, bytes });
    this.queuedBytes += bytes;
    this.itemWaiter?.();
  }

  private releaseSpace(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiters) w();
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.failure ??= e;
    this.itemWaiter?.();
  }
}
