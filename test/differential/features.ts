/**
 * Feature switches: which operations the workload generates (and how often), which identifier
 * tricks it uses, and which faults the runner injects. Every switch is on by default; a run can
 * focus on one thing (`--only update-key`) or leave out what is known to be broken while the
 * product is being fixed (`--without ddl-after-update`).
 */

/** Operations: each is one generator step (one or a few source transactions). */
export const OPS = [
  'insert',
  'upsert',
  'update',
  'update-key',
  'delete',
  'reinsert',
  'multi',
  'big',
  'rollback',
  'toast',
  'truncate',
  'add-column',
  'add-column-default',
  'drop-column',
  'rename-column',
  'widen',
  'create-table',
  'ddl-after-update',
] as const;
export type Op = (typeof OPS)[number];

/** Identifier tricks (they shape the tables, not the steps). */
export const TRAITS = ['hostile-names', 'case-names', 'meta-columns'] as const;
export type Trait = (typeof TRAITS)[number];

/**
 * Faults the runner injects while the workload runs; `resync` asks the pipelines to copy a random
 * table again, `pause` pauses a pipeline for a few seconds (its capture's wait is interrupted, the
 * paused workflow observes the source) and resumes it; `upkeep` runs a lake pipeline's upkeep
 * (compaction, snapshot expiry, file cleanup) while it loads.
 */
export const FAULTS = ['kill-worker', 'kill-conn', 'kill-snapshot', 'resync', 'pause', 'upkeep'] as const;
export type Fault = (typeof FAULTS)[number];

export type Switch = Op | Trait | Fault;
export const SWITCHES: readonly Switch[] = [...OPS, ...TRAITS, ...FAULTS];

/** Row-level operations a multi-statement transaction is made of. */
export const DML_OPS: readonly Op[] = ['insert', 'upsert', 'update', 'update-key', 'delete', 'reinsert'];

/** Relative frequency of each operation when everything is on. */
export const DEFAULT_WEIGHTS: Record<Op, number> = {
  insert: 12,
  upsert: 6,
  update: 14,
  'update-key': 4,
  delete: 6,
  reinsert: 3,
  multi: 14,
  big: 1,
  rollback: 2,
  toast: 3,
  truncate: 0.6,
  'add-column': 1.2,
  'add-column-default': 1,
  'drop-column': 0.8,
  'rename-column': 0.8,
  widen: 1,
  'create-table': 0.5,
  'ddl-after-update': 1.2,
};

export interface Features {
  weights: Map<Op, number>;
  traits: Set<Trait>;
  faults: Set<Fault>;
}

export interface SwitchOptions {
  /** Only these switches are on (operations, traits and faults alike). */
  only?: readonly string[];
  /** These switches are off. */
  without?: readonly string[];
  /** Weight overrides, e.g. `{ 'update-key': 20 }`. */
  weights?: Readonly<Record<string, number>>;
}

/** Resolves switch options; unknown names are an error that lists the known ones. */
export function resolveFeatures(options: SwitchOptions = {}): Features {
  const check = (names: readonly string[]): Switch[] =>
    names.map((n) => {
      if (!(SWITCHES as readonly string[]).includes(n)) throw new Error(`unknown switch ${JSON.stringify(n)}; known: ${SWITCHES.join(', ')}`);
      return n as Switch;
    });
  const on = new Set<Switch>(options.only !== undefined && options.only.length > 0 ? check(options.only) : SWITCHES);
  for (const off of check(options.without ?? [])) on.delete(off);
  const weights = new Map<Op, number>();
  for (const op of OPS) if (on.has(op)) weights.set(op, DEFAULT_WEIGHTS[op]);
  for (const [name, w] of Object.entries(options.weights ?? {})) {
    if (!(OPS as readonly string[]).includes(name)) throw new Error(`unknown operation in weights: ${name}`);
    if (!Number.isFinite(w) || w < 0) throw new Error(`weight of ${name} must be a number >= 0`);
    if (on.has(name as Op)) weights.set(name as Op, w);
  }
  return {
    weights,
    traits: new Set(TRAITS.filter((t) => on.has(t))),
    faults: new Set(FAULTS.filter((f) => on.has(f))),
  };
}

/** The switches as command-line flags that reproduce them (empty when everything is on). */
export function switchFlags(options: SwitchOptions): string[] {
  const flags: string[] = [];
  if (options.only !== undefined && options.only.length > 0) flags.push('--only', options.only.join(','));
  if (options.without !== undefined && options.without.length > 0) flags.push('--without', options.without.join(','));
  const w = Object.entries(options.weights ?? {});
  if (w.length > 0) flags.push('--weights', w.map(([k, v]) => `${k}=${v}`).join(','));
  return flags;
}
