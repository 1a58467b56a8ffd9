import { parseArgs } from 'node:util';
import type { Dialect } from './column-types.js';
import { SWITCHES } from './features.js';
import { SHORT_RUN, type RunOptions } from './options.js';
import { DESTINATION_CHOICES, type DestinationChoice } from './pipelines.js';
import { randomSeed } from './prng.js';
import { runDifferential } from './runner.js';

const USAGE = `npm run soak -- [options]

  --source pg|mysql|both       source(s) to run against (default both, one after the other)
  --seed N                     seed (default: random, printed)
  --minutes N | --seconds N    workload length (default 3 minutes)
  --steps N                    stop after N generator steps (fixes the op sequence; replays print it)
  --only a,b                   only these switches on; --without a,b: these off
  --weights op=w,...           weight overrides
  --kill-every MIN-MAX         SIGKILL the worker every MIN..MAX s (default 20-60)
  --conn-kill-every MIN-MAX    kill the replication connection every MIN..MAX s (default 15-45)
  --worker-kills N --conn-kills N   a fixed number of kills spread over the run instead
  --destination mixed|duckdb|ducklake   what the pipelines write (default mixed: the seed puts
                               one of them in a DuckLake about every other seed)
  --workers N                  worker processes on the task queue (default 1; more needs
                               --destination ducklake); kills take them in turn
  --seed-rows N                rows per initial table (default ${SHORT_RUN.seedRows})
  --keep                       keep databases and files even when the run passes

switches: ${SWITCHES.join(', ')}`;

function range(text: string, flag: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (m === null) throw new Error(`${flag} takes MIN-MAX seconds, e.g. 20-60`);
  const lo = Number(m[1]);
  return [lo, Math.max(lo, Number(m[2] ?? m[1]))];
}

const list = (v: string | undefined): string[] | undefined => v?.split(',').map((s) => s.trim()).filter((s) => s !== '');

async function main(): Promise<number> {
  const { values: a } = parseArgs({
    options: {
      source: { type: 'string', default: 'both' },
      seed: { type: 'string' },
      minutes: { type: 'string' },
      seconds: { type: 'string' },
      steps: { type: 'string' },
      only: { type: 'string' },
      without: { type: 'string' },
      weights: { type: 'string' },
      'kill-every': { type: 'string' },
      'conn-kill-every': { type: 'string' },
      'worker-kills': { type: 'string' },
      'conn-kills': { type: 'string' },
      'seed-rows': { type: 'string' },
      destination: { type: 'string', default: 'mixed' },
      workers: { type: 'string', default: '1' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  const sources: Dialect[] = a.source === 'both' ? ['pg', 'mysql'] : a.source === 'pg' || a.source === 'mysql' ? [a.source] : [];
  if (sources.length === 0) throw new Error('--source is pg, mysql or both');
  if (!(DESTINATION_CHOICES as readonly string[]).includes(a.destination)) throw new Error(`--destination is ${DESTINATION_CHOICES.join(', ')}`);
  const destination = a.destination as DestinationChoice;
  const workers = Number(a.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new Error('--workers is a whole number, 1 or more');
  if (workers > 1 && destination !== 'ducklake') throw new Error('--workers 2 or more needs --destination ducklake (a DuckDB file has one writing process)');
  const seed = a.seed === undefined ? randomSeed() : Number(a.seed) >>> 0;
  const seconds = a.seconds !== undefined ? Number(a.seconds) : Number(a.minutes ?? 3) * 60;
  const fixedKills = a['worker-kills'] !== undefined || a['conn-kills'] !== undefined;
  const weights = Object.fromEntries((list(a.weights) ?? []).map((w) => {
    const [k, v] = w.split('=');
    return [k ?? '', Number(v)];
  }));
  let failed = 0;
  for (const source of sources) {
    const o: RunOptions = {
      source,
      seed,
      seconds,
      steps: a.steps === undefined ? undefined : Number(a.steps),
      switches: { only: list(a.only), without: list(a.without), weights },
      destination,
      workers,
      seedRows: a['seed-rows'] === undefined ? SHORT_RUN.seedRows : Number(a['seed-rows']),
      workerKills: Number(a['worker-kills'] ?? 0),
      connKills: Number(a['conn-kills'] ?? 0),
      killEverySec: fixedKills ? undefined : range(a['kill-every'] ?? '20-60', '--kill-every'),
      connKillEverySec: fixedKills ? undefined : range(a['conn-kill-every'] ?? '15-45', '--conn-kill-every'),
      keep: a.keep,
      log: (line) => console.log(`[${source} ${new Date().toISOString().slice(11, 19)}] ${line}`),
      progressEverySec: 10,
    };
    const result = await runDifferential(o);
    console.log(`\n${result.report.split('\nlog:\n')[0]}\n`);
    if (!result.ok) failed++;
  }
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error((err as Error).message);
    process.exit(2);
  },
);
