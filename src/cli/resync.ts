import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { createConnectors } from '../composition.js';
import { ConfigError, NoPrimaryKeyError, TableNotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import { MAX_REPAIR_KEYS, pipelineHandle, queryStatus, resyncUpdate } from '../temporal/pipeline-contract.js';

export interface ResyncOptions {
  /** Wait until the copies are done (or `timeoutMs` passed). */
  wait: boolean;
  timeoutMs: number;
  /** Progress lines while waiting. */
  say(line: string): void;
}

/**
 * Asks a running pipeline to copy `tables` again by incremental snapshot while it keeps
 * streaming (see src/sources/backfill.ts). The tables are checked at the source first: each must
 * be one the pipeline replicates, exist, and have a primary key. Returns the request id.
 */
export async function resyncTables(
  client: Client,
  spec: PipelineSpec,
  tables: string[],
  logger: Logger,
  opts: ResyncOptions,
  /** Per table, only these keys (see `ResyncInput.keys`); a table whose key types cannot be listed is copied whole. */
  keys?: Record<string, string[][]>,
): Promise<string> {
  if (tables.length === 0) throw new ConfigError('resync needs at least one table', `name tables as schema.table, e.g. ducktail resync ${spec.name} public.orders`);
  const listable = await checkTables(spec, tables, logger);
  const byKey = keys === undefined ? undefined : Object.fromEntries(Object.entries(keys).filter(([t, list]) => listable.has(t) && list.length <= MAX_REPAIR_KEYS));
  const handle = pipelineHandle(client, spec.name);
  // Notes already there are not this request's.
  const earlier = new Set((await queryStatus(handle).catch(() => null))?.schemaChanges ?? []);
  let reply;
  try {
    reply = await handle.executeUpdate(resyncUpdate, { args: [{ tables, ...(byKey === undefined || Object.keys(byKey).length === 0 ? {} : { keys: byKey }) }] });
    for (const t of tables) opts.say(byKey?.[t] !== undefined ? `${t}: re-syncing ${byKey[t]?.length ?? 0} keys` : `${t}: re-syncing the whole table`);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || /already completed|not found/i.test((err as Error).message)) {
      throw new ConfigError(`pipeline ${spec.name} is not running`, `start it (ducktail start ${spec.name}), then run the resync again`);
    }
    throw err;
  }
  if (!opts.wait) return reply.id;
  const deadline = Date.now() + opts.timeoutMs;
  let said = '';
  for (;;) {
    let status;
    try {
      status = await queryStatus(handle);
    } catch (err) {
      // No worker answers for a while (restarting): the copy goes on once one is back.
      if (Date.now() > deadline) throw err;
      opts.say(`status query failed (${(err as Error).message}); is a worker running? waiting`);
      await new Promise((r) => setTimeout(r, 2_000));
      continue;
    }
    const pending = (status.backfillRequests ?? []).some((r) => r.id === reply.id);
    const copying = (status.checkpoint?.backfill?.tables ?? []).some((t) => tables.includes(t.table));
    if (!pending && !copying) {
      // A copy the source could not make (the table went away, lost its key) is dropped with a note.
      const skipped = status.schemaChanges.filter((n) => !earlier.has(n) && tables.some((t) => n.startsWith(`${t}: resync skipped`)));
      if (skipped.length > 0) throw new ConfigError(`the re-sync did not copy everything: ${skipped.join('; ')}`, 'fix what the note says, then resync again');
      return reply.id;
    }
    if (status.phase === 'failed' && status.lastError !== null) opts.say(`pipeline failed: ${status.lastError.message}`);
    const line = status.backfillProgress ?? 'waiting for the pipeline to take the request in';
    if (line !== said) opts.say(line);
    said = line;
    if (Date.now() > deadline) {
      throw new ConfigError(`the re-sync of ${tables.join(', ')} is not done after ${Math.round(opts.timeoutMs / 1000)} s (it goes on)`, '`ducktail status` shows its progress');
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** Key types whose text is the same in verify's output and at the source (so keys can be listed). */
const LISTABLE_KEY = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|VARCHAR|UUID)$/;

/**
 * Each table must be replicated by the pipeline, exist at the source, and have a primary key.
 * Returns the tables whose keys can be listed (integer, text or UUID key columns).
 */
async function checkTables(spec: PipelineSpec, tables: string[], logger: Logger): Promise<Set<string>> {
  const listable = new Set<string>();
  const connectors = createConnectors({ logger });
  try {
    const report = await (await connectors.source(spec)).preflight();
    const known = new Map(report.tables.map((t) => [t.table, t]));
    for (const table of tables) {
      const schema = known.get(table);
      if (schema === undefined) {
        const names = [...known.keys()];
        throw new TableNotFoundError(
          `pipeline ${spec.name} does not replicate a table ${table}`,
          names.length > 0 ? `name one of its tables: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}` : 'check the pipeline\'s source.tables in the config',
        );
      }
      if (schema.primaryKey.length === 0) {
        throw new NoPrimaryKeyError(`${table} has no primary key, so it cannot be copied again in key order`, 'add a primary key at the source, or re-create the pipeline (teardown, then start) to copy everything again');
      }
      if (schema.primaryKey.every((k) => LISTABLE_KEY.test(schema.columns.find((c) => c.name === k)?.duckType ?? ''))) listable.add(table);
    }
    await (await connectors.source(spec)).prepareResync(tables);
  } finally {
    await connectors.close();
  }
  return listable;
}
