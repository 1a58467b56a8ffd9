import { DuckDBInstance } from '@duckdb/node-api';
import type pg from 'pg';

const POLL_MS = 100;

export interface ProbeReport {
  markers: number;
  /** Commit → visible to a reader of the DuckDB file, per marker, in ms (sorted). */
  latenciesMs: number[];
  /** Opens of the DuckDB file tried, and those refused because the worker held it. */
  opens: number;
  refusedOpens: number;
}

/**
 * Commit → visible, as a user sees it: commits a marker row every `intervalMs` on its own
 * connection (noting when each commit returned), and polls the DuckDB file the way any DuckDB
 * client would (open read-only, one query, close; an open refused by the worker's lock is tried
 * again 100 ms later), noting when each marker first shows.
 */
export class LatencyProbe {
  private readonly committedAt = new Map<number, number>();
  private readonly seenAt = new Map<number, number>();
  private opens = 0;
  private refused = 0;
  private committing = false;
  private polling = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly client: pg.Client,
    private readonly sourceTable: string,
    private readonly duckFile: string,
    private readonly duckTable: string,
    private nextId: number,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.committing = true;
    this.polling = true;
    this.loops = [this.commitLoop(), this.pollLoop()];
  }

  /** Stops committing markers, waits (up to `timeoutMs`) until every marker showed, and reports. */
  async stop(timeoutMs = 120_000): Promise<ProbeReport> {
    this.committing = false;
    await this.loops[0];
    const deadline = Date.now() + timeoutMs;
    while (this.seenAt.size < this.committedAt.size && Date.now() < deadline) await sleep(POLL_MS);
    this.polling = false;
    await this.loops[1];
    if (this.seenAt.size < this.committedAt.size) {
      throw new Error(`${this.committedAt.size - this.seenAt.size} of ${this.committedAt.size} markers never showed in ${this.duckFile}`);
    }
    const latenciesMs = [...this.committedAt].map(([id, at]) => (this.seenAt.get(id) ?? NaN) - at).sort((a, b) => a - b);
    return { markers: this.committedAt.size, latenciesMs, opens: this.opens, refusedOpens: this.refused };
  }

  /** The id the next probe (on the same table) starts from. */
  get next(): number {
    return this.nextId;
  }

  private async commitLoop(): Promise<void> {
    while (this.committing) {
      const id = this.nextId++;
      await this.client.query(`INSERT INTO ${this.sourceTable} (id, at) VALUES ($1, clock_timestamp())`, [id]);
      this.committedAt.set(id, Date.now());
      await sleep(this.intervalMs);
    }
  }

  private async pollLoop(): Promise<void> {
    while (this.polling) {
      const newest = await this.readNewest();
      if (newest !== null) {
        const now = Date.now();
        for (const id of this.committedAt.keys()) if (id <= newest && !this.seenAt.has(id)) this.seenAt.set(id, now);
      }
      await sleep(POLL_MS);
    }
  }

  /** The newest marker id in the DuckDB file, or null when the file could not be read (held, or no marker loaded yet). */
  private async readNewest(): Promise<number | null> {
    let db: DuckDBInstance;
    this.opens++;
    try {
      db = await DuckDBInstance.create(this.duckFile, { access_mode: 'READ_ONLY' });
    } catch (err) {
      if (/lock/i.test((err as Error).message)) this.refused++;
      return null;
    }
    try {
      const connection = await db.connect();
      try {
        const rows = (await connection.runAndReadAll(`SELECT max(id)::DOUBLE AS newest FROM ${this.duckTable}`)).getRowObjectsJson();
        const newest = rows[0]?.newest;
        return typeof newest === 'number' ? newest : null;
      } finally {
        connection.closeSync();
      }
    } catch {
      return null; // the table is created with the first batch that holds a marker
    } finally {
      db.closeSync();
    }
  }
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
