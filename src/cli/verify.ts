import { InvalidArgumentError } from 'commander';
import type { DucktailConfig } from '../config/load-config.js';
import { DucktailError } from '../errors.js';
import { verifyPipeline, type VerifyOptions } from '../verify/verify-pipeline.js';
import { formatVerify, toReport, verifyExitCode } from '../verify/verify-report.js';
import { connectClient, loadConfig, selectPipelines, type GlobalOptions } from './context.js';
import { logger } from '../logger.js';
import { resyncTables } from './resync.js';
import { readStatus } from './status.js';
import { flushSignal, pipelineHandle } from '../temporal/pipeline-contract.js';

export interface VerifyCommandOptions {
  /** Comma-separated `schema.table` names. */
  tables?: string;
  json: boolean;
  sample: number;
  /** False (`--no-wait`): re-check differences once at once instead of waiting for the pipeline to catch up. */
  wait: boolean;
  /** Seconds to wait for the pipeline to catch up before re-checking. */
  catchUpTimeout: number;
  /** Re-sync the tables that differ (incremental snapshot while the pipeline runs), then verify them again. */
  repair: boolean;
}

export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** `--sample N`: a whole number, 0 or more. */
export function parseSample(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number, 0 or more');
  return n;
}

/** Splits `a.b,"c,d".e` at commas outside quotes. */
export function splitTableList(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | null = null;
  for (const ch of text) {
    if (quote !== null) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === '`') quote = ch;
    else if (ch === ',') {
      out.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  out.push(current.trim());
  return out.filter((t) => t !== '');
}

/**
 * Whether waiting for the pipeline to catch up can help: only while its workflow runs, is not
 * paused or failed, and a worker answers. Without a reachable Temporal server nobody can tell,
 * so it waits (up to the timeout).
 */
async function recheckMode(globals: GlobalOptions, config: DucktailConfig, pipeline: string): Promise<Pick<VerifyOptions, 'recheck' | 'recheckNote' | 'beforeCatchUp'>> {
  let client;
  try {
    client = await connectClient(globals, config);
  } catch {
    return { recheck: 'after-catch-up' };
  }
  try {
    const row = await readStatus(client, pipeline);
    const stalled = (why: string): Pick<VerifyOptions, 'recheck' | 'recheckNote'> => ({
      recheck: 'now',
      recheckNote: `${why}, so the copy cannot catch up: differences re-checked once without waiting`,
    });
    if (row.execution !== 'RUNNING') return stalled(`pipeline ${pipeline} is not running (workflow ${row.execution.toLowerCase().replaceAll('_', ' ')})`);
    if (row.status === null) return stalled(`no worker answers for pipeline ${pipeline}`);
    if (row.status.paused || row.status.phase === 'paused') return stalled(`pipeline ${pipeline} is paused`);
    if (row.status.phase === 'failed') return stalled(`pipeline ${pipeline} has failed (${row.status.lastError?.message ?? 'see ducktail status'})`);
    return { recheck: 'after-catch-up', beforeCatchUp: () => flushPipeline(globals, config, pipeline) };
  } catch {
    return { recheck: 'after-catch-up' };
  } finally {
    await client.connection.close().catch(() => undefined);
  }
}

/**
 * Asks the running pipeline to load what it has read at once (an idle capture otherwise waits up
 * to a minute before it commits a position that only moved). Best effort: without it the wait is longer.
 */
async function flushPipeline(globals: GlobalOptions, config: DucktailConfig, pipeline: string): Promise<void> {
  try {
    const client = await connectClient(globals, config);
    try {
      await pipelineHandle(client, pipeline).signal(flushSignal);
    } finally {
      await client.connection.close().catch(() => undefined);
    }
  } catch {
    // not reachable now: the copy still catches up, later
  }
}

/**
 * `ducktail verify PIPELINE`: compares the pipeline's source tables with their DuckDB copy.
 * Returns the exit code: 0 equal, 1 a table differs, 2 an error (printed with its fix).
 */
export async function runVerify(globals: GlobalOptions, pipeline: string, opts: VerifyCommandOptions, out: Output): Promise<number> {
  try {
    const config = await loadConfig(globals.config);
    const [spec] = selectPipelines(config, [pipeline]);
    if (spec === undefined) throw new Error(`no pipeline named ${pipeline}`);
    const recheck: Pick<VerifyOptions, 'recheck' | 'recheckNote' | 'beforeCatchUp'> =
      spec.mode !== 'merge'
        ? {}
        : opts.wait
          ? await recheckMode(globals, config, spec.name)
          : { recheck: 'now', recheckNote: 're-checked once without waiting (--no-wait)' };
    const verify = (tables: string[] | undefined) =>
      verifyPipeline(spec, { ...(tables === undefined ? {} : { tables }), ...recheck, catchUpTimeoutMs: opts.catchUpTimeout * 1000 });
    const result = await verify(opts.tables === undefined ? undefined : splitTableList(opts.tables));
    const print = (r: typeof result): void => out.stdout(`${opts.json ? JSON.stringify(toReport(r, opts.sample), null, 2) : formatVerify(r, opts.sample)}\n`);
    if (!opts.repair || verifyExitCode(result) !== 1) {
      print(result);
      return verifyExitCode(result);
    }
    // --repair: the differing tables are copied again while the pipeline runs, then compared again.
    if (!opts.json) print(result);
    const differing = result.tables.filter((t) => !t.equal && t.error === null).map((t) => t.table);
    // Tables whose every differing key is known get only those keys copied; the others are copied whole.
    const keys = Object.fromEntries(
      result.tables
        .filter((t) => !t.equal && t.error === null && !t.truncated && t.ranges.every((r) => r.resolved) && t.differences.length > 0)
        .map((t) => [t.table, t.differences.map((d) => d.key)]),
    );
    out.stderr(`repairing: re-syncing ${differing.join(', ')} while the pipeline runs\n`);
    const client = await connectClient(globals, config);
    await resyncTables(client, spec, differing, logger, {
      wait: true,
      timeoutMs: 3_600_000,
      say: (line) => out.stderr(`${spec.name}: ${line}\n`),
    }, keys);
    const after = await verify(differing);
    if (opts.json) out.stdout(`${JSON.stringify({ before: toReport(result, opts.sample), after: toReport(after, opts.sample) }, null, 2)}\n`);
    else {
      out.stdout(`after the re-sync of ${differing.join(', ')}:\n`);
      print(after);
    }
    return verifyExitCode(after);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (opts.json) out.stdout(`${JSON.stringify({ pipeline, error: message }, null, 2)}\n`);
    out.stderr(`error: ${message}\n`);
    if (!(err instanceof DucktailError) && err instanceof Error && process.env.DUCKTAIL_DEBUG === '1') out.stderr(`${err.stack}\n`);
    return 2;
  }
}
