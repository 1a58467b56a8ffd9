import { after, before } from 'node:test';
import type pg from 'pg';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { tempDir } from './pipelines.js';
import { dropPgReplication, ensurePgDatabase, pgConnect } from './postgres.js';
import { inProcessWorker, testServer, type RunningWorker } from './temporal.js';

export const E2E_DB = 'ducktail_e2e';

export interface PgE2E {
  server: DevServer;
  worker: RunningWorker;
  pgc: pg.Client;
  /** A fresh temp directory for DuckDB files and configs. */
  dir: string;
}

/**
 * Registers before/after hooks (call inside `describe`) that give a test file a real PostgreSQL
 * connection to `ducktail_e2e` with `schemaSql` applied, a Temporal dev server and an in-process
 * worker on `taskQueue`. Slots and publications named `slotPrefix…` are dropped before and after.
 */
export function pgE2E(options: {
  taskQueue: string;
  slotPrefix: string;
  schemaSql: string;
  worker?: boolean;
  /** Options of the test's dev server (web UI port, pipeline search attributes). */
  server?: Parameters<typeof testServer>[0];
}): PgE2E {
  const h = {} as PgE2E;
  before(async () => {
    await ensurePgDatabase(E2E_DB);
    h.pgc = await pgConnect(E2E_DB);
    await dropPgReplication(h.pgc, options.slotPrefix);
    await h.pgc.query(options.schemaSql);
    h.dir = await tempDir(options.taskQueue);
    h.server = await testServer(options.server);
    if (options.worker !== false) h.worker = await inProcessWorker(h.server, options.taskQueue);
  });
  after(async () => {
    await h.worker?.stop();
    await h.server?.stop();
    if (h.pgc !== undefined) {
      await dropPgReplication(h.pgc, options.slotPrefix);
      await h.pgc.end();
    }
  });
  return h;
}
