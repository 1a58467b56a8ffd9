import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { testServer } from '../helpers/temporal.js';
import type { Dialect } from './column-types.js';
import type { SwitchOptions } from './features.js';
import { SHORT_RUN, type RunOptions } from './options.js';
import { DESTINATION_CHOICES, describeDestinations, planDestinations, type DestinationChoice } from './pipelines.js';
import { runDifferential } from './runner.js';

/** A short run with everything on. */
export interface ShortSeed {
  seed: number;
  workerKills: number;
  connKills: number;
  /** Worker processes on one task queue, both pipelines in lakes (default: one worker, the seed's destinations). */
  workers?: number;
}

/** A seed that failed once: a test case, replayed with its switches. */
export interface Regression {
  seed: number;
  /** What it showed, one line. */
  note: string;
  switches: SwitchOptions;
  seconds?: number;
  /** Steps the failing run had done (pins the op sequence). */
  steps?: number;
  workerKills?: number;
  connKills?: number;
  connKillEverySec?: [number, number];
}

const REPORT_LINES = 60;

/**
 * The differential tests of one source: the short runs with everything on (every `npm test`),
 * and the regression seeds (with DIFF_REGRESSIONS=1). `DIFF_SEEDS=1,2` replaces the short seeds;
 * `DIFF_DESTINATION=duckdb|ducklake` puts both pipelines of every run in that kind of destination
 * (by default each seed decides, see `planDestinations`).
 */
export function differentialSuite(source: Dialect, seeds: ShortSeed[], regressions: Regression[]): void {
  const fromEnv = process.env.DIFF_SEEDS?.split(',').filter((s) => s.trim() !== '').map((s) => ({ seed: Number(s) >>> 0, workerKills: 2, connKills: 1 }));
  const short: ShortSeed[] = fromEnv ?? seeds;
  const label = source === 'pg' ? 'PostgreSQL' : 'MariaDB';
  const destination = destinationFromEnv();
  const destinationOf = (s: ShortSeed): DestinationChoice => ((s.workers ?? 1) > 1 ? 'ducklake' : destination);
  const where = (s: ShortSeed): string => describeDestinations(planDestinations(s.seed, destinationOf(s))) + ((s.workers ?? 1) > 1 ? `, ${s.workers} workers` : '');

  describe(`differential: ${label} → DuckDB files and DuckLakes (MERGE and APPEND) equal the source's truth`, () => {
    let server: DevServer;
    before(async () => {
      server = await testServer();
    });
    after(async () => {
      await server?.stop();
    });

    const check = async (o: RunOptions): Promise<void> => {
      const result = await runDifferential({ destination, ...o, server });
      const lines = result.report.split('\n');
      const shown = lines.slice(0, REPORT_LINES).join('\n') + (lines.length > REPORT_LINES ? `\n… full report: ${result.dir}/report.txt` : '');
      assert.ok(result.ok, `\n${shown}`);
    };

    for (const s of short) {
      test(`seed ${s.seed} (${where(s)}): every operation and trait, ${s.workerKills} worker SIGKILL(s), ${s.connKills} connection kill(s)`, { timeout: 900_000 }, () =>
        check({ ...SHORT_RUN, source, seed: s.seed, switches: {}, workerKills: s.workerKills, connKills: s.connKills, destination: destinationOf(s), ...(s.workers === undefined ? {} : { workers: s.workers }) }),
      );
    }
    for (const r of regressions) {
      const skip = process.env.DIFF_REGRESSIONS === '1' ? false : 'regression seeds run with DIFF_REGRESSIONS=1';
      test(`regression seed ${r.seed} (${[...(r.switches.only ?? []), ...(r.switches.without ?? []).map((w) => `-${w}`)].join(',') || 'all'}): ${r.note}`, { timeout: 900_000, skip }, () =>
        check({
          ...SHORT_RUN,
          source,
          seed: r.seed,
          switches: r.switches,
          seconds: r.seconds ?? 25,
          steps: r.steps,
          workerKills: r.workerKills ?? 0,
          connKills: r.connKills ?? 0,
          connKillEverySec: r.connKillEverySec,
        }),
      );
    }
  });
}

function destinationFromEnv(): DestinationChoice {
  const v = process.env.DIFF_DESTINATION?.trim() ?? '';
  if (v === '') return 'mixed';
  if (!(DESTINATION_CHOICES as readonly string[]).includes(v)) throw new Error(`DIFF_DESTINATION is ${DESTINATION_CHOICES.join(', ')}, not ${JSON.stringify(v)}`);
  return v as DestinationChoice;
}
