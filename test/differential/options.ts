import type { DevServer } from '../../src/temporal/dev-server.js';
import type { Dialect } from './column-types.js';
import { switchFlags, type SwitchOptions } from './features.js';
import type { DestinationChoice } from './pipelines.js';

/** One seeded run against one source. */
export interface RunOptions {
  source: Dialect;
  seed: number;
  /** Workload length: stops after this many seconds… */
  seconds: number;
  /** …or after this many generator steps, whichever comes first (fixes the op sequence for replays). */
  steps?: number;
  switches: SwitchOptions;
  /** What the pipelines write (default `mixed`: the seed decides, see `planDestinations`). */
  destination?: DestinationChoice;
  /** Worker processes on the run's task queue (default 1); more than one needs both pipelines in lakes. */
  workers?: number;
  /** Rows per initial table (the snapshot). */
  seedRows: number;
  /** SIGKILLs of the worker spread over the run, or one every [min, max] s when `killEverySec` is set. */
  workerKills: number;
  connKills: number;
  killEverySec?: [number, number];
  connKillEverySec?: [number, number];
  /** Keep the source databases and files even when the run passes. */
  keep?: boolean;
  /** A dev server shared by several runs (one per run otherwise). */
  server?: DevServer;
  /** Progress lines (soak); silent when absent. */
  log?: (line: string) => void;
  progressEverySec?: number;
}

export const SHORT_RUN: Omit<RunOptions, 'source' | 'seed' | 'switches'> = {
  seconds: 45,
  steps: 300,
  seedRows: 300,
  workerKills: 2,
  connKills: 1,
};

/** A pipeline whose position and batch count stand still this long has stalled (a SIGKILL costs the 10 s heartbeat timeout). */
export const STALL_SECONDS = 45;

/** The command that replays a run (same seed, same op sequence, same switches and fault schedule). */
export function replayCommand(o: RunOptions, stepsDone?: number): string {
  const args = ['npm', 'run', 'soak', '--', '--source', o.source, '--seed', String(o.seed), '--seconds', String(o.seconds)];
  const steps = stepsDone ?? o.steps;
  if (steps !== undefined) args.push('--steps', String(steps));
  if (o.seedRows !== SHORT_RUN.seedRows) args.push('--seed-rows', String(o.seedRows));
  if (o.killEverySec !== undefined) args.push('--kill-every', o.killEverySec.join('-'));
  else args.push('--worker-kills', String(o.workerKills));
  if (o.connKillEverySec !== undefined) args.push('--conn-kill-every', o.connKillEverySec.join('-'));
  else args.push('--conn-kills', String(o.connKills));
  if (o.destination !== undefined && o.destination !== 'mixed') args.push('--destination', o.destination);
  if ((o.workers ?? 1) > 1) args.push('--workers', String(o.workers));
  args.push(...switchFlags(o.switches).map((a) => (a.startsWith('--') ? a : JSON.stringify(a).replace(/^"|"$/g, ''))));
  return args.join(' ');
}
