import { valueClass, type ColumnType, type ValueClass } from './column-types.js';
import type { Val } from './values.js';

/**
 * The generator's picture of the source: tables, their current columns and which keys are live
 * or deleted. It tracks no row values (the truth is read back from the source), only what the
 * generator needs so every statement it writes succeeds: updates and deletes of live keys,
 * inserts of fresh keys, re-inserts of deleted ones.
 */

export interface ColumnModel {
  name: string;
  type: ColumnType;
  key: boolean;
}

/** Primary key values in key-column order. */
export type Key = Val[];

/** Live keys with O(1) pick and removal. */
class KeySet {
  private readonly items: Key[] = [];
  private readonly index = new Map<string, number>();

  get size(): number {
    return this.items.length;
  }

  has(k: Key): boolean {
    return this.index.has(keyText(k));
  }

  add(k: Key): void {
    const t = keyText(k);
    if (this.index.has(t)) return;
    this.index.set(t, this.items.length);
    this.items.push(k);
  }

  delete(k: Key): void {
    const t = keyText(k);
    const i = this.index.get(t);
    if (i === undefined) return;
    const last = this.items.pop()!;
    this.index.delete(t);
    if (i < this.items.length) {
      this.items[i] = last;
      this.index.set(keyText(last), i);
    }
  }

  at(i: number): Key {
    return this.items[i]!;
  }

  all(): Key[] {
    return [...this.items];
  }

  clear(): void {
    this.items.length = 0;
    this.index.clear();
  }

  clone(): KeySet {
    const c = new KeySet();
    for (const k of this.items) c.add(k);
    return c;
  }
}

export function keyText(k: Key): string {
  return JSON.stringify(k);
}

export class TableModel {
  readonly live = new KeySet();
  readonly deleted = new KeySet();
  /** Every column name the table ever had (names are never reused: old audit images stay unambiguous). */
  readonly everNames = new Set<string>();
  /** Value class of every column the table ever had, by name. */
  readonly classes = new Map<string, ValueClass>();
  /** Renames, old name → new name (a column may be renamed again: follow the chain). */
  readonly renames = new Map<string, string>();
  /** Next fresh key number. */
  nextKey = 1;

  constructor(
    /** Stable number: trigger names and fresh keys derive from it. */
    readonly id: number,
    readonly name: string,
    public columns: ColumnModel[],
  ) {
    for (const c of columns) this.remember(c);
  }

  /** The name a column has now, following renames (the name itself when never renamed). */
  latestName(name: string): string {
    let n = name;
    for (let hops = 0; this.renames.has(n) && hops < 1000; hops++) n = this.renames.get(n)!;
    return n;
  }

  keyColumns(): ColumnModel[] {
    return this.columns.filter((c) => c.key);
  }

  valueColumns(): ColumnModel[] {
    return this.columns.filter((c) => !c.key);
  }

  column(name: string): ColumnModel | undefined {
    return this.columns.find((c) => c.name === name);
  }

  remember(c: ColumnModel): void {
    this.everNames.add(c.name);
    this.classes.set(c.name, valueClass(c.type));
  }

  /** A key no row has or had (composite keys: an integer and a text part). */
  freshKey(): Key {
    const n = this.nextKey++;
    return this.keyColumns().map((c) => (c.type.base === 'varchar' || c.type.base === 'text' ? `k ${this.id}-${n} ✓'"` : String(this.id * 1_000_000 + n)));
  }

  insertKey(k: Key): void {
    this.deleted.delete(k);
    this.live.add(k);
  }

  deleteKey(k: Key): void {
    this.live.delete(k);
    this.deleted.add(k);
  }

  truncate(): void {
    for (const k of this.live.all()) this.deleted.add(k);
    this.live.clear();
  }

  clone(): TableModel {
    const c = new TableModel(this.id, this.name, this.columns.map((col) => ({ ...col })));
    for (const n of this.everNames) c.everNames.add(n);
    for (const [n, cls] of this.classes) c.classes.set(n, cls);
    for (const [from, to] of this.renames) c.renames.set(from, to);
    for (const k of this.live.all()) c.live.add(k);
    for (const k of this.deleted.all()) c.deleted.add(k);
    c.nextKey = this.nextKey;
    return c;
  }
}

export class SourceModel {
  tables: TableModel[] = [];
  /** Value for the `rev` column: every UPDATE sets a new one, so no UPDATE is ever a no-op (MariaDB logs no row event for those, but fires triggers). */
  rev = 0;

  table(name: string): TableModel | undefined {
    return this.tables.find((t) => t.name === name);
  }

  clone(): SourceModel {
    const c = new SourceModel();
    c.tables = this.tables.map((t) => t.clone());
    c.rev = this.rev;
    return c;
  }
}

/** The bookkeeping column every table has: bigint, never dropped, renamed or widened. */
export const REV = 'rev';
