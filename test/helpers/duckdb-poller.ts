/**
 * A user polling a DuckDB file from its own process the way any DuckDB client does: open
 * (read-only), run one query, close; an open refused by the writer's lock is retried every 100 ms.
 * Run as a child process with IPC: `poller <file> <sql>`; send any message to stop; it replies
 * with `PollerStats`. Each query's wait runs from its first open attempt to its result.
 * DUCKTAIL_POLLER_LOG names a file to append each attempt to (debugging).
 */
import { appendFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

export interface PollerStats {
  queries: number;
  waits: number[];
  refused: number;
  errors: string[];
}

const [file, sql] = process.argv.slice(2);
if (file === undefined || sql === undefined || process.send === undefined) throw new Error('usage: poller <file> <sql> (with an IPC channel)');
const log = process.env.DUCKTAIL_POLLER_LOG;
const note = (m: string): void => {
  if (log !== undefined) appendFileSync(log, `${Date.now()} poller ${m}\n`);
};
const stats: PollerStats = { queries: 0, waits: [], refused: 0, errors: [] };
let stop = false;
process.on('message', () => (stop = true));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

while (!stop) {
  const began = Date.now();
  for (;;) {
    try {
      const db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
      try {
        const c = await db.connect();
        await c.runAndReadAll(sql);
        c.closeSync();
      } finally {
        db.closeSync();
      }
      stats.queries++;
      stats.waits.push(Date.now() - began);
      note(`ok after ${Date.now() - began} ms`);
      break;
    } catch (err) {
      const message = (err as Error).message.split('\n')[0] ?? '';
      note(`refused: ${message}`);
      if (/lock/i.test(message)) stats.refused++;
      else if (stats.errors.length < 5) stats.errors.push(message);
      if (stop) break;
      await sleep(100);
    }
  }
  await sleep(200);
}
process.send(stats, () => process.exit(0));
