/**
 * How long a pipeline's change stream stays open in a worker process after its last capture or
 * load there ended. Between the batches of a running pipeline the gap is milliseconds; a longer
 * one means it is paused, parked, stopped, or served by another worker process now, which then
 * needs the replication slot (PostgreSQL allows one reader) the stream holds.
 */
export const RELEASE_IDLE_MS = 10_000;

/**
 * Lets go of a pipeline's stream once no capture or load of it has run in this process for
 * `idleMs`. `hold` wraps each such activity; `release` closes what reads the pipeline's source.
 */
export class IdleStreams {
  private readonly running = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly releasing = new Map<string, Promise<void>>();

  constructor(
    private readonly release: (pipeline: string) => Promise<void>,
    private readonly idleMs = RELEASE_IDLE_MS,
  ) {}

  /** Runs `work` for `pipeline`; its stream is kept while any such work runs, and `idleMs` after. */
  async hold<T>(pipeline: string, work: () => Promise<T>): Promise<T> {
    clearTimeout(this.timers.get(pipeline));
    this.timers.delete(pipeline);
    this.running.set(pipeline, (this.running.get(pipeline) ?? 0) + 1);
    try {
      await this.releasing.get(pipeline); // a release under way ends before the work opens the stream again
      return await work();
    } finally {
      const left = (this.running.get(pipeline) ?? 1) - 1;
      if (left > 0) this.running.set(pipeline, left);
      else {
        this.running.delete(pipeline);
        this.timers.set(pipeline, setTimeout(() => this.idle(pipeline), this.idleMs).unref());
      }
    }
  }

  /** Pipelines served here now: work of theirs runs, or ended less than `idleMs` ago, or they were just reserved. */
  active(): string[] {
    return [...new Set([...this.running.keys(), ...this.timers.keys()])];
  }

  /** Counts `pipeline` as served here for `idleMs` before any work of it runs (a placement chose this process). */
  reserve(pipeline: string): void {
    if (this.running.has(pipeline)) return;
    clearTimeout(this.timers.get(pipeline));
    this.timers.set(pipeline, setTimeout(() => this.idle(pipeline), this.idleMs).unref());
  }

  /** Forgets every timer (the worker is closing its sources anyway). */
  clear(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private idle(pipeline: string): void {
    this.timers.delete(pipeline);
    if (this.running.has(pipeline) || this.releasing.has(pipeline)) return;
    const done = this.release(pipeline).finally(() => this.releasing.delete(pipeline));
    this.releasing.set(pipeline, done);
  }
}
