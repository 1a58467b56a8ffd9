import { createConnectors, lakeSecrets } from '../composition.js';
import { TableNotFoundError } from '../errors.js';
import { logger as processLogger, type Logger } from '../logger.js';
import { isLake, type PipelineSpec } from '../model/pipeline-spec.js';
import { parseTableRef, tableKey } from '../model/table-name.js';
import { similarNames, TableSelection } from '../sources/table-selection.js';
import { readWhenCaughtUp } from './catch-up.js';
import { DEFAULT_COMPARE, type CompareOptions } from './compare-ranges.js';
import { duckdbDialect } from './dialect-duckdb.js';
import { readDuckPipeline, readDuckTable, type DuckPipeline } from './duckdb-copy.js';
import type { CopyReader } from './copy-reader.js';
import { DuckReader, type DuckReaderOptions } from './duckdb-reader.js';
import { LakeReader } from './ducklake-reader.js';
import { openMysqlVerifySource } from './mysql-verify-source.js';
import { openPostgresVerifySource } from './postgres-verify-source.js';
import { planTable, TableNotVerifiable } from './table-plan.js';
import { VerifyError } from './verify-errors.js';
import type { RecheckResult, TableVerifyResult, VerifyResult } from './verify-result.js';
import { sourcePassword, type VerifySource } from './verify-source.js';
import type { RowHash } from './table-side.js';
import { applyRecheck, destRows, differingKeys, differs, duckExec, firstPass, recheckRanges, tableError, tableResult, type TableWork } from './verify-table.js';

export interface VerifyOptions {
  /** Source tables (`schema.table`) to verify; default: every table the pipeline replicates. */
  tables?: string[];
  /**
   * What to do with differences the first pass finds. `after-catch-up` (default): wait until the
   * pipeline has loaded what the source has now, then compare those keys again, up to
   * `recheckRounds` times; `now`: compare them again once without waiting; `none`: report them.
   */
  recheck?: 'after-catch-up' | 'now' | 'none';
  /** Why there is no wait, for the report (e.g. "the pipeline is stopped"). */
  recheckNote?: string;
  /** How long to wait, in all, for the pipeline to catch up (default 60 s). */
  catchUpTimeoutMs?: number;
  /** Called before each wait for the copy to catch up (the CLI asks the pipeline to load what it has read at once). */
  beforeCatchUp?: () => Promise<void>;
  /** At most this many re-checks (default 5): a key still differing may have changed again meanwhile. */
  recheckRounds?: number;
  /** Rows per range of the first pass (default 50,000). */
  chunkRows?: number;
  compare?: Partial<CompareOptions>;
  /** How a DuckDB file is held (a lake is read beside its loads, nothing to tune). */
  duckdb?: DuckReaderOptions;
  logger?: Logger;
  /** Where `source.passwordEnv` and a lake's `destination.passwordEnv` are looked up (default: this process's environment). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Compares a MERGE pipeline's source tables with their copies in its DuckDB file or DuckLake
 * (live rows, `__deleted` false) by primary-key ranges and checksums computed on each side,
 * names every differing key, and re-checks those after the pipeline has caught up, so a copy
 * that merely lags is equal. A lake is read through a read-only session, beside its loads.
 * Throws (`VerifyError`, `ConfigError`, `TableNotFoundError`, connection errors) when the
 * pipeline cannot be compared at all; a single table that cannot be has `error` set.
 */
export async function verifyPipeline(spec: PipelineSpec, options: VerifyOptions = {}): Promise<VerifyResult> {
  if (spec.mode === 'append') throw appendError(spec.name);
  const log = (options.logger ?? processLogger).child({ pipeline: spec.name, command: 'verify' });
  const env = options.env ?? process.env;
  const reader = await openCopy(spec, env, options.duckdb);
  try {
    const duck = await readDuckPipeline(reader, spec.name);
    if (duck === null || duck.mode === null) {
      throw new VerifyError(
        `pipeline ${spec.name} has loaded nothing into ${reader.path}`,
        `start it (ducktail start) and verify once it has copied its tables, or check ${isLake(spec.destination) ? 'destination.catalog' : 'destination.path'}`,
      );
    }
    if (duck.mode === 'append') throw appendError(spec.name);
    const source = await openSource(spec, env);
    try {
      const tables = await selectTables(spec, source, options.tables);
      const results = await verifyTables(spec, tables, source, reader, duck, options, log);
      return {
        pipeline: spec.name,
        source: describeSource(spec),
        destination: reader.path,
        equal: results.tables.every((t) => t.equal && t.error === null),
        ...results,
      };
    } finally {
      await source.close();
    }
  } finally {
    await reader.close();
  }
}

/** The first pass over every table, then the re-check of what differed. */
async function verifyTables(
  spec: PipelineSpec,
  tables: string[],
  source: VerifySource,
  reader: CopyReader,
  duck: DuckPipeline,
  options: VerifyOptions,
  log: Logger,
): Promise<Pick<VerifyResult, 'tables' | 'recheck'>> {
  const compare: CompareOptions = { ...DEFAULT_COMPARE, ...options.compare, progress: (m) => log.debug(m) };
  const results = new Map<string, TableVerifyResult>();
  const works: TableWork[] = [];
  for (const table of tables) {
    const work = await startTable(table, source, reader, duck, options.chunkRows ?? 50_000, compare).catch((err: unknown) => {
      if (err instanceof TableNotVerifiable) return err.message;
      throw err;
    });
    if (typeof work === 'string') results.set(table, tableError(table, work));
    else works.push(work);
    log.debug({ table, differing: typeof work === 'string' ? null : work.found.length }, 'first pass done');
  }
  const recheck = works.some(differs) ? await recheckAll(spec, works, reader, options, compare, log) : null;
  for (const w of works) results.set(w.plan.table, tableResult(w));
  return { tables: tables.map((t) => results.get(t)!), recheck };
}

/** The pipeline's copy, read-only: its DuckDB file (which must exist) or its lake. */
async function openCopy(spec: PipelineSpec, env: NodeJS.ProcessEnv, duckdb: DuckReaderOptions | undefined): Promise<CopyReader> {
  const destination = spec.destination;
  if (isLake(destination)) return LakeReader.open(destination, lakeSecrets(spec, env));
  const reader = new DuckReader(destination.path, duckdb);
  await reader.checkExists();
  return reader;
}

function appendError(pipeline: string): VerifyError {
  return new VerifyError(
    `pipeline ${pipeline} runs in APPEND mode: verify compares MERGE copies (one live row per key with the source's current values), and an APPEND table is a log of every change`,
    'verify a pipeline with mode: merge',
  );
}

function describeSource(spec: PipelineSpec): string {
  const s = spec.source;
  return s.kind === 'postgres' ? `postgres://${s.user}@${s.host}:${s.port}/${s.database}` : `mysql://${s.user}@${s.host}:${s.port}`;
}

function openSource(spec: PipelineSpec, env: NodeJS.ProcessEnv): Promise<VerifySource> {
  const password = sourcePassword(spec, env);
  return spec.source.kind === 'postgres' ? openPostgresVerifySource(spec.source, password) : openMysqlVerifySource(spec.source, password);
}

/** The tables to verify: those named (each must be one the pipeline replicates and exist), else all. */
async function selectTables(spec: PipelineSpec, source: VerifySource, named: string[] | undefined): Promise<string[]> {
  const existing = await source.tables();
  if (named === undefined || named.length === 0) return existing;
  const selection = new TableSelection(spec.source.tables);
  return named.map((text) => {
    const ref = parseTableRef(text);
    if (ref === null || ref.name === '*') {
      throw new VerifyError(`--tables: ${JSON.stringify(text)} is not a table name`, 'write schema.table (database.table for MySQL), comma-separated');
    }
    const table = tableKey(ref);
    if (!selection.includes(ref.schema, ref.name)) {
      throw new VerifyError(`table ${table} is not replicated by pipeline ${spec.name}`, `its source.tables are: ${spec.source.tables.join(', ')}`);
    }
    if (!existing.includes(table)) {
      const similar = similarNames(table, existing);
      throw new TableNotFoundError(`table ${table} does not exist in the source database`, similar.length > 0 ? `did you mean ${similar.join(', ')}?` : 'check the name');
    }
    return table;
  });
}

async function startTable(table: string, source: VerifySource, reader: CopyReader, duck: DuckPipeline, chunkRows: number, compare: CompareOptions): Promise<TableWork> {
  const described = await source.describe(table);
  if (described === null) throw new TableNotVerifiable(`${table} no longer exists at the source`);
  const mapping = duck.mappings.find((m) => m.sourceTable === table);
  const duckTable = mapping === undefined ? null : await readDuckTable(reader, mapping);
  if (mapping !== undefined && duckTable === null) {
    throw new TableNotVerifiable(`${table}: its copy ${mapping.duckSchema}.${mapping.duckTable} is missing (dropped?)`);
  }
  const plan = planTable(described, source.dialect, duckdbDialect(), duckTable);
  return firstPass(plan, source.exec, duckExec(reader), chunkRows, compare);
}

/**
 * Re-checks what differs once the copy has caught up with the source. Per round: the differing
 * keys' source rows are read, then the source's position; once the pipeline's loaded checkpoint
 * (in the copy) covers that position, the same keys are read from the copy in the read that saw
 * it (one open of the file; one transaction, so one snapshot, of a lake), and from the source
 * once more. A key still differs when its copy matches neither source read
 * (see `applyRecheck`); a row changed again in both gaps gets another round.
 */
async function recheckAll(
  spec: PipelineSpec,
  works: TableWork[],
  reader: CopyReader,
  options: VerifyOptions,
  compare: CompareOptions,
  log: Logger,
): Promise<RecheckResult> {
  const mode = options.recheck ?? 'after-catch-up';
  const result: RecheckResult = {
    waited: mode === 'after-catch-up',
    caughtUp: null,
    target: null,
    checkpoint: null,
    waitedMs: 0,
    firstPassDifferences: works.reduce((n, w) => n + w.found.length, 0),
    rounds: 0,
    note: '',
  };
  if (mode !== 'after-catch-up') {
    if (mode === 'now') {
      for (const w of works.filter(differs)) {
        const before = await w.source.lookup(differingKeys(w));
        const { dest, after } = await reader.withCopy(async (copy) => ({ dest: await destRows(w, copy), after: await w.source.lookup(differingKeys(w)) }));
        applyRecheck(w, before, dest, after);
        await recheckRanges(w, compare);
      }
      result.rounds = 1;
    }
    result.note = options.recheckNote ?? (mode === 'now' ? 're-checked once without waiting' : 'not re-checked');
    return result;
  }
  const timeoutMs = options.catchUpTimeoutMs ?? 60_000;
  const connectors = createConnectors({ logger: options.logger ?? processLogger, ...(options.env === undefined ? {} : { env: options.env }) });
  try {
    const position = await connectors.source(spec);
    for (let round = 0; round < (options.recheckRounds ?? 5) && works.some(differs); round++) {
      const todo = works.filter(differs);
      const pending = works.reduce((n, w) => n + w.found.length + w.unresolved.length, 0);
      const before = new Map<TableWork, RowHash[]>();
      for (const w of todo) before.set(w, await w.source.lookup(differingKeys(w)));
      const target = await position.currentPosition();
      await options.beforeCatchUp?.();
      const { outcome, value } = await readWhenCaughtUp(position, reader, spec.name, target, Math.max(0, timeoutMs - result.waitedMs), async (copy) => {
        const rows = new Map<TableWork, { dest: RowHash[]; after: RowHash[] }>();
        // The source again right after the copy, while the copy is pinned (it cannot move meanwhile).
        for (const w of todo) rows.set(w, { dest: await destRows(w, copy), after: await w.source.lookup(differingKeys(w)) });
        return rows;
      });
      for (const w of todo) applyRecheck(w, before.get(w)!, value.get(w)!.dest, value.get(w)!.after);
      for (const w of todo) await recheckRanges(w, compare);
      Object.assign(result, { caughtUp: outcome.reached, target: outcome.target, checkpoint: outcome.checkpoint });
      result.waitedMs += outcome.waitedMs;
      result.rounds++;
      const remaining = works.reduce((n, w) => n + w.found.length + w.unresolved.length, 0);
      log.debug({ round, caughtUp: outcome.reached, remaining }, 're-checked');
      // A round that settled nothing leaves differences that are real: no need to wait again.
      if (!outcome.reached || remaining === pending) break;
    }
  } finally {
    await connectors.close();
  }
  result.note =
    result.caughtUp === true
      ? `the copy caught up with the source (position ${result.target}); differing keys re-checked`
      : `the copy did not catch up with the source position ${result.target} within ${Math.round(timeoutMs / 1000)} s (loaded: ${result.checkpoint ?? 'nothing'}); keys re-checked anyway, some may differ only because the copy lags`;
  return result;
}
