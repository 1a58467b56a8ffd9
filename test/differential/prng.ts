/**
 * A small seeded PRNG (sfc32, seeded through splitmix32). Written here rather than taken from a
 * library so a seed means the same sequence forever: a failing seed is a test case and must replay
 * identically after any dependency upgrade.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** An integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  /** `n` distinct items (fewer when the list is shorter), in random order. */
  sample<T>(items: readonly T[], n: number): T[] {
    const copy = [...items];
    const out: T[] = [];
    while (out.length < n && copy.length > 0) out.push(copy.splice(this.int(0, copy.length - 1), 1)[0]!);
    return out;
  }

  /** One key of `weights`, chosen in proportion to its weight (entries of weight 0 never). */
  weighted<K extends string>(weights: ReadonlyMap<K, number>): K {
    let total = 0;
    for (const w of weights.values()) total += Math.max(0, w);
    if (total <= 0) throw new Error('weighted choice with no positive weight');
    let x = this.float() * total;
    for (const [k, w] of weights) {
      if (w <= 0) continue;
      x -= w;
      if (x < 0) return k;
    }
    return [...weights.keys()].filter((k) => (weights.get(k) ?? 0) > 0).pop()!;
  }

  /**
   * An independent stream derived from this seed and `label`: the workload, the pacing and the
   * fault schedule each draw from their own stream, so enabling a fault never shifts the ops.
   */
  fork(label: string): Prng {
    let h = this.seed ^ 0x811c9dc5;
    for (const ch of label) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    return new Prng(h >>> 0);
  }
}

/** A fresh random seed (for runs without --seed); printed so the run can be replayed. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0xffffffff) >>> 0;
}
