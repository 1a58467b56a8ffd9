import type { Dialect } from './column-types.js';
import { addColumn, createTable, ddlAfterUpdate, dropColumn, renameColumn, widenColumn } from './ddl.js';
import { deleteRows, dmlStatement, insertRows, toastColumn, toastTxns, updateRows } from './dml.js';
import { DML_OPS, type Features, type Op } from './features.js';
import { col, pickTable, rowFor, type GenContext } from './gen-context.js';
import { NameSource } from './identifiers.js';
import { SourceModel, type TableModel } from './model.js';
import { Prng } from './prng.js';
import { initialTables } from './shapes.js';
import type { Step, Stmt, Txn } from './statements.js';
import { toastValue, type Val } from './values.js';

export interface GeneratorOptions {
  seed: number;
  dialect: Dialect;
  features: Features;
  /** Rows per table before the pipelines start (the snapshot). */
  seedRows: number;
}

/**
 * The seeded workload: `setup()` then `next()` forever. Pure: the same seed, dialect and
 * features give the same steps, whatever the source or the pipelines do (it never reads back).
 */
export class WorkloadGenerator {
  readonly model = new SourceModel();
  private readonly ctx: GenContext;
  private readonly pace: Prng;

  constructor(private readonly options: GeneratorOptions) {
    const root = new Prng(options.seed);
    this.pace = root.fork('pace');
    this.ctx = {
      rng: root.fork(`ops:${options.dialect}`),
      dialect: options.dialect,
      model: this.model,
      names: new NameSource(options.dialect, options.features.traits),
      features: options.features,
    };
  }

  /** CREATE TABLE and seed rows of the initial tables (some with TOAST-sized values). */
  setup(): Step[] {
    const tables = initialTables(this.ctx);
    this.model.tables.push(...tables);
    const steps: Step[] = tables.map((t) => ({
      op: 'seed' as const,
      txns: [{ stmts: [{ kind: 'create-table' as const, table: t.name, columns: t.columns.map((c) => ({ ...col(c), key: c.key })) }] }],
      pauseMs: 0,
    }));
    for (const t of tables) {
      const stmts: Stmt[] = [];
      for (let left = this.options.seedRows; left > 0; left -= 100) stmts.push(this.seedInsert(t, Math.min(100, left)));
      steps.push({ op: 'seed', txns: [{ stmts }], pauseMs: 0 });
    }
    return steps;
  }

  next(): Step {
    const op = this.ctx.rng.weighted(this.options.features.weights);
    return { op, txns: this.build(op), pauseMs: this.pause() };
  }

  private build(op: Op): Txn[] {
    const { ctx } = this;
    const { rng } = ctx;
    const one = (stmts: Stmt[]): Txn[] => [{ stmts }];
    const many = (groups: Stmt[][]): Txn[] => groups.map((stmts) => ({ stmts }));
    switch (op) {
      case 'multi':
        return one(this.multi());
      case 'big':
        return one(this.big());
      case 'rollback': {
        const saved = this.model.tables;
        this.model.tables = saved.map((t) => t.clone());
        const stmts = Array.from({ length: rng.int(1, 4) }, () => dmlStatement(ctx, rng.pick(DML_OPS)));
        this.model.tables = saved;
        return [{ stmts, rollback: true }];
      }
      case 'toast':
        return many(toastTxns(ctx));
      case 'truncate': {
        const t = pickTable(ctx);
        t.truncate();
        return one([{ kind: 'truncate', table: t.name }]);
      }
      case 'add-column':
        return many(addColumn(ctx, false));
      case 'add-column-default':
        return many(addColumn(ctx, true));
      case 'drop-column':
        return many(dropColumn(ctx));
      case 'rename-column':
        return many(renameColumn(ctx));
      case 'widen':
        return many(widenColumn(ctx));
      case 'create-table':
        return many(createTable(ctx));
      case 'ddl-after-update':
        return many(ddlAfterUpdate(ctx));
      default:
        return one([dmlStatement(ctx, op)]);
    }
  }

  /** 2–8 row statements of the enabled DML kinds, often on the same table, sometimes the same rows twice. */
  private multi(): Stmt[] {
    const { ctx } = this;
    const { rng } = ctx;
    const enabled = DML_OPS.filter((o) => this.options.features.weights.has(o));
    const kinds = enabled.length > 0 ? enabled : (['insert', 'update', 'delete'] as const);
    const stmts: Stmt[] = [];
    let table: TableModel | undefined;
    for (let i = rng.int(2, 8); i > 0; i--) {
      if (table === undefined || rng.chance(0.4)) table = pickTable(ctx);
      if (ctx.dialect === 'pg' && this.options.features.weights.has('truncate') && rng.chance(0.03)) {
        table.truncate();
        stmts.push({ kind: 'truncate', table: table.name });
        continue;
      }
      stmts.push(dmlStatement(ctx, rng.pick(kinds), table));
    }
    return stmts;
  }

  /**
   * A transaction of ~1000 row changes: inserts, updates, or a mix with deletes. A quarter of the
   * insert-only ones carry TOAST-sized values (~15 MB): the stream then backs up behind small batches.
   */
  private big(): Stmt[] {
    const { ctx } = this;
    const { rng } = ctx;
    const t = pickTable(ctx);
    const stmts: Stmt[] = [];
    const shape = rng.int(0, 2);
    const inserts = shape === 0 ? 1000 : shape === 1 ? Math.max(0, 1000 - t.live.size) : 500;
    const big = shape === 0 && rng.chance(0.25) ? toastColumn(t) : undefined;
    for (let left = inserts; left > 0; left -= 250) {
      const n = Math.min(250, left);
      if (big === undefined) stmts.push(insertRows(ctx, t, n));
      else for (let i = 0; i < n; i += 25) stmts.push(insertRows(ctx, t, 25, new Map([[big, toastValue(rng)]])));
    }
    if (shape >= 1) {
      const n = shape === 1 ? 1000 : 300;
      for (let left = n; left > 0; left -= 250) {
        const u = updateRows(ctx, t, Math.min(250, left));
        if (u !== null) stmts.push(u);
      }
    }
    if (shape === 2) {
      const d = deleteRows(ctx, t, 200);
      if (d !== null) stmts.push(d);
    }
    return stmts;
  }

  private seedInsert(t: TableModel, n: number): Stmt {
    const big = toastColumn(t);
    const rows: Val[][] = [];
    for (let i = 0; i < n; i++) {
      const k = t.freshKey();
      const toast = big !== undefined && this.ctx.rng.chance(0.1) ? new Map([[big, toastValue(this.ctx.rng)]]) : undefined;
      rows.push(rowFor(this.ctx, t, k, toast));
      t.insertKey(k);
    }
    return { kind: 'insert', table: t.name, cols: t.columns.map(col), rows };
  }

  /** Mostly short pauses (steps share capture batches), sometimes long ones (batches close, idle). */
  private pause(): number {
    const x = this.pace.float();
    if (x < 0.6) return this.pace.int(0, 40);
    if (x < 0.9) return this.pace.int(40, 250);
    return this.pace.int(250, 1500);
  }
}
