import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckLakeSession } from '../../src/destinations/ducklake/ducklake-session.js';
import { createTestLake, LAKE_SKIP } from '../helpers/ducklake.js';
import { tempDir } from '../helpers/pipelines.js';
import { canonical, canonicalTimestamp } from './canonical.js';
import { compareKeyed } from './compare-rows.js';
import type { AuditEntry } from './driver.js';
import { DuckCopy } from './duck-file.js';
import { resolveDuckTable } from './duck-names.js';
import { OPS, resolveFeatures } from './features.js';
import { planDestinations } from './pipelines.js';
import { WorkloadGenerator } from './generator.js';
import { Prng } from './prng.js';
import { replayAudit } from './replay.js';
import { Findings } from './report.js';
import type { Stmt } from './statements.js';
import type { Row, TruthTable } from './truth.js';

/** The tester's own pure parts: a tester that drifts or tolerates differences is worthless. */

function steps(seed: number, dialect: 'pg' | 'mysql', n: number, only?: string[]): string {
  const g = new WorkloadGenerator({ seed, dialect, features: resolveFeatures({ only }), seedRows: 20 });
  const out = [JSON.stringify(g.setup())];
  for (let i = 0; i < n; i++) out.push(JSON.stringify(g.next()));
  return out.join('\n');
}

describe('differential tester: generator', () => {
  test('the same seed gives the same steps; another seed does not', () => {
    for (const dialect of ['pg', 'mysql'] as const) {
      assert.equal(steps(42, dialect, 300), steps(42, dialect, 300));
      assert.notEqual(steps(42, dialect, 50), steps(43, dialect, 50));
    }
  });

  test('a fork is independent of how much the parent drew', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    b.u32();
    assert.equal(a.fork('faults').u32(), b.fork('faults').u32());
  });

  test('--only restricts the operations (falling back to inserts only where an op cannot apply)', () => {
    const g = new WorkloadGenerator({ seed: 5, dialect: 'pg', features: resolveFeatures({ only: ['update-key'] }), seedRows: 10 });
    g.setup();
    for (let i = 0; i < 200; i++) {
      const s = g.next();
      assert.equal(s.op, 'update-key');
      for (const stmt of s.txns.flatMap((t) => t.stmts)) assert.ok(stmt.kind === 'update' || stmt.kind === 'insert', stmt.kind);
    }
  });

  test('every operation can be generated alone on both sources', () => {
    for (const op of OPS) {
      for (const dialect of ['pg', 'mysql'] as const) {
        const g = new WorkloadGenerator({ seed: 9, dialect, features: resolveFeatures({ only: [op] }), seedRows: 5 });
        g.setup();
        for (let i = 0; i < 40; i++) assert.equal(g.next().op, op);
      }
    }
  });

  test('MariaDB DDL and TRUNCATE are alone in their transaction', () => {
    const g = new WorkloadGenerator({ seed: 3, dialect: 'mysql', features: resolveFeatures(), seedRows: 5 });
    g.setup();
    for (let i = 0; i < 2000; i++) {
      for (const t of g.next().txns) {
        const special = t.stmts.filter((s) => s.kind !== 'insert' && s.kind !== 'upsert' && s.kind !== 'update' && s.kind !== 'delete');
        if (special.length > 0) assert.equal(t.stmts.length, 1, JSON.stringify(t.stmts.map((s) => s.kind)));
      }
    }
  });

  test('the model never drifts: every statement changes exactly the rows it should (simulated source)', () => {
    for (const dialect of ['pg', 'mysql'] as const) {
      const g = new WorkloadGenerator({ seed: 77, dialect, features: resolveFeatures(), seedRows: 30 });
      let tables = new Map<string, Set<string>>();
      const run = (stmts: Stmt[], into: Map<string, Set<string>>): void => {
        for (const s of stmts) {
          const keys = into.get(s.table) ?? new Set<string>();
          into.set(s.table, keys);
          const keyIdx = (cols: { name: string }[], names: string[]): number[] => names.map((n) => cols.findIndex((c) => c.name === n));
          if (s.kind === 'create-table') keys.clear();
          else if (s.kind === 'truncate') keys.clear();
          else if (s.kind === 'insert' || s.kind === 'upsert') {
            const key = s.kind === 'upsert' ? s.key : (g.model.table(s.table)?.keyColumns().map((c) => c.name) ?? []);
            for (const r of s.rows) {
              const k = JSON.stringify(keyIdx(s.cols, key).map((i) => r[i]));
              if (s.kind === 'insert') assert.ok(!keys.has(k), `insert of existing key ${k} into ${s.table}`);
              keys.add(k);
            }
          } else if (s.kind === 'update' || s.kind === 'delete') {
            for (const k of s.keys) {
              const text = JSON.stringify(k);
              assert.ok(keys.has(text), `${s.kind} of missing key ${text} in ${s.table}`);
              keys.delete(text);
              if (s.kind === 'update') {
                const moved = k.map((v, i) => s.set.find((x) => x.col.name === s.key[i]?.name)?.value ?? v);
                assert.ok(!keys.has(JSON.stringify(moved)) || JSON.stringify(moved) === text, `key change onto an existing key in ${s.table}`);
                keys.add(JSON.stringify(moved));
              }
            }
          }
        }
      };
      for (const step of g.setup()) for (const t of step.txns) run(t.stmts, tables);
      for (let i = 0; i < 3000; i++) {
        for (const t of g.next().txns) {
          if (t.rollback === true) run(t.stmts, new Map([...tables].map(([k, v]) => [k, new Set(v)])));
          else run(t.stmts, tables);
        }
      }
      for (const t of g.model.tables) {
        assert.deepEqual([...(tables.get(t.name) ?? [])].sort(), t.live.all().map((k) => JSON.stringify(k)).sort(), `live keys of ${t.name}`);
      }
      tables = new Map();
    }
  });

  test('unknown switches are refused with the list of known ones', () => {
    assert.throws(() => resolveFeatures({ only: ['update-keys'] }), /unknown switch "update-keys"; known: insert/);
  });
});

describe('differential tester: canonical values', () => {
  test('timestamps: one instant in any offset or spelling is one text; different instants differ', () => {
    const utc = canonicalTimestamp('2024-03-01 10:00:00+00');
    assert.equal(utc, '2024-03-01T10:00:00.000000Z');
    assert.equal(canonicalTimestamp('2024-03-01T15:30:00+05:30'), utc);
    assert.equal(canonicalTimestamp('2024-03-01 02:00:00.000000-08'), utc);
    assert.equal(canonicalTimestamp('2024-02-29T23:00:00-11:00'), utc);
    assert.notEqual(canonicalTimestamp('2024-03-01 10:00:00.000001+00'), utc);
    assert.equal(canonicalTimestamp('2024-03-01 10:00:00.5'), '2024-03-01T10:00:00.500000');
    assert.notEqual(canonicalTimestamp('2024-03-01 10:00:00'), utc, 'a timestamp without zone is not an instant');
  });

  test('numbers, booleans, bytes and JSON normalise representation only', () => {
    assert.equal(canonical('decimal', '12.30'), '12.3');
    assert.equal(canonical('decimal', '-0.00'), '0');
    assert.equal(canonical('decimal', '0012.000'), '12');
    assert.notEqual(canonical('decimal', '12.31'), canonical('decimal', '12.3'));
    assert.equal(canonical('int', '9223372036854775807'), '9223372036854775807');
    assert.equal(canonical('bool', 't'), canonical('bool', 'true'));
    assert.equal(canonical('bool', '1'), 'true');
    assert.equal(canonical('bytes', '\\xDEADbeef'), 'deadbeef');
    assert.equal(canonical('json', '{"b": [1, 2], "a": "x"}'), canonical('json', '{"a":"x","b":[1,2]}'));
    assert.notEqual(canonical('json', '{"a":"1"}'), canonical('json', '{"a":1}'));
    assert.equal(canonical('text', ' a '), ' a ');
  });
});

describe('differential tester: comparison', () => {
  const table = (rows: [string, Row][]): TruthTable => ({
    name: 't',
    keyColumns: ['id'],
    columns: ['id', 'v'],
    classes: new Map([['id', 'int'], ['v', 'text']]),
    rows: new Map(rows),
  });

  test('missing, extra and differing rows are all reported; equal sets are not', () => {
    const f = new Findings();
    const expected = new Map<string, Row>([['["1"]', { id: '1', v: 'a' }], ['["2"]', { id: '2', v: 'b' }]]);
    const actual = new Map<string, Row>([['["1"]', { id: '1', v: 'A' }], ['["3"]', { id: '3', v: 'c' }]]);
    compareKeyed({ findings: f, where: 'merge', table: 't', expectedName: 'source', actualName: 'DuckDB', columns: () => ['id', 'v'] }, expected, actual);
    assert.deepEqual(f.list.map((d) => d.kind).sort(), ['row in DuckDB that source does not have', 'row missing in DuckDB', 'value differs']);
    const same = new Findings();
    compareKeyed({ findings: same, where: 'merge', table: 't', expectedName: 'source', actualName: 'DuckDB', columns: () => ['id', 'v'] }, expected, new Map(expected));
    assert.ok(same.empty);
  });

  test('audit replay: a key-changing update moves the row; truncate clears', () => {
    const e = (id: number, op: AuditEntry['op'], image: Row | null, oldImage: Row | null = null): AuditEntry => ({ id, txn: String(id), table: 't', op, image, oldImage });
    const t = table([]);
    const state = replayAudit(new Map(), [
      e(1, 'insert', { id: '1', v: 'a' }),
      e(2, 'insert', { id: '2', v: 'b' }),
      e(3, 'update', { id: '5', v: 'a2' }, { id: '1', v: 'a' }),
      e(4, 'delete', { id: '2', v: 'b' }),
    ], t);
    assert.deepEqual([...state.entries()], [['["5"]', { id: '5', v: 'a2' }]]);
    assert.equal(replayAudit(state, [e(5, 'truncate', null)], t).size, 0);
  });
});

describe('differential tester: DuckDB names', () => {
  test('with _ducktail.tables names map exactly (case pairs stay apart); without it DuckDB resolves case-insensitively', async () => {
    const dir = await tempDir('ducktail-diff-names');
    const file = path.join(dir, 'names.duckdb');
    const db = await DuckDBInstance.create(file);
    const c = await db.connect();
    await c.run(`CREATE SCHEMA s; CREATE TABLE s."Mixed" ("A" INT, "a_2" INT, "__op" VARCHAR, "__op_2" VARCHAR)`);
    await c.run(`INSERT INTO s."Mixed" VALUES (1, 2, 'insert', 'user value')`);
    c.closeSync();
    db.closeSync();

    let f = await DuckCopy.openFile(file);
    const identity = await resolveDuckTable(f, 'p', 's', 'mixed');
    if (identity === null) throw new Error('no identity match');
    assert.equal(identity.table.name, 'Mixed', 'identity: the case-insensitive match');
    const [row] = await f.readRows(identity.table, ['A', 'a', 'nope'], identity.mapped);
    assert.deepEqual(row?.values, ['1', '1', undefined], '"a" reads "A" without a mapping, as a query would');
    await f.close();

    const db2 = await DuckDBInstance.create(file);
    const c2 = await db2.connect();
    await c2.run(`CREATE SCHEMA _ducktail; CREATE TABLE _ducktail.tables (pipeline VARCHAR, source_table VARCHAR, duck_schema VARCHAR, duck_table VARCHAR, columns JSON)`);
    await c2.run(`INSERT INTO _ducktail.tables VALUES ('p', 's.Mixed', 's', 'Mixed', '[{"source":"A","duck":"A"},{"source":"a","duck":"a_2"},{"source":"__op","duck":"__op_2"}]')`);
    c2.closeSync();
    db2.closeSync();

    f = await DuckCopy.openFile(file);
    const mapped = await resolveDuckTable(f, 'p', 's', 'Mixed');
    if (mapped === null) throw new Error('no mapped table');
    assert.ok(mapped.mapped);
    assert.equal(await resolveDuckTable(f, 'p', 's', 'mixed'), null, 'a source table the mapping does not list has no DuckDB table');
    const names = ['A', 'a', '__op', 'gone'].map((n) => mapped.column(n));
    assert.deepEqual(names, ['A', 'a_2', '__op_2', undefined]);
    const [mrow] = await f.readRows(mapped.table, names, true);
    assert.deepEqual(mrow?.values, ['1', '2', 'user value', undefined]);
    await f.close();
    await rm(dir, { recursive: true, force: true });
  });
});

describe('differential tester: destinations', () => {
  test('about half the seeds put one pipeline (either) in a lake; a forced kind puts both there', () => {
    const plans = Array.from({ length: 400 }, (_, seed) => planDestinations(seed));
    const lakes = plans.filter((p) => p.merge === 'ducklake' || p.append === 'ducklake');
    assert.ok(lakes.length > 150 && lakes.length < 250, `${lakes.length} of 400 seeds with a lake`);
    assert.ok(lakes.every((p) => p.merge !== p.append), 'never both in lakes unless forced');
    assert.ok(lakes.some((p) => p.merge === 'ducklake') && lakes.some((p) => p.append === 'ducklake'));
    assert.deepEqual(planDestinations(7), planDestinations(7));
    assert.deepEqual(planDestinations(7, 'ducklake'), { merge: 'ducklake', append: 'ducklake' });
    assert.deepEqual(planDestinations(7, 'duckdb'), { merge: 'duckdb', append: 'duckdb' });
  });

  test('the npm test seeds cover files and lakes, MERGE and APPEND in a lake', () => {
    assert.deepEqual(
      [101, 102, 201, 202].map((s) => planDestinations(s)),
      [
        { merge: 'ducklake', append: 'duckdb' },
        { merge: 'duckdb', append: 'ducklake' },
        { merge: 'ducklake', append: 'duckdb' },
        { merge: 'duckdb', append: 'duckdb' },
      ],
    );
  });

  test('a lake reads as a file does: mapped names, rows in insertion order across commits and updates', { skip: LAKE_SKIP }, async () => {
    const dir = await tempDir('ducktail-diff-lake');
    const lake = await createTestLake(path.join(dir, 'data'));
    try {
      const writer = await DuckLakeSession.open({ destination: lake.destination });
      try {
        await writer.exclusive(async (db) => {
          await db.run(`CREATE SCHEMA s; CREATE TABLE s."Mixed" ("A" INT, "a_2" INT, "__op" VARCHAR, "__op_2" VARCHAR, b BLOB)`);
          await db.run(`CREATE SCHEMA _ducktail; CREATE TABLE _ducktail.tables (pipeline VARCHAR, source_table VARCHAR, duck_schema VARCHAR, duck_table VARCHAR, columns JSON)`);
          await db.run(`INSERT INTO _ducktail.tables VALUES ('p', 's.Mixed', 's', 'Mixed', '[{"source":"A","duck":"A"},{"source":"a","duck":"a_2"},{"source":"b","duck":"b"}]')`);
          for (const i of [3, 1, 2]) await db.run(`INSERT INTO s."Mixed" VALUES (${i}, ${i * 10}, 'insert', NULL, '\\x0A\\xFF'::BLOB)`);
          await db.run(`UPDATE s."Mixed" SET a_2 = 11 WHERE "A" = 3`);
          await db.run(`INSERT INTO s."Mixed" VALUES (4, 40, 'insert', NULL, NULL)`);
        });
      } finally {
        await writer.close();
      }
      const copy = await DuckCopy.openLake(lake.destination);
      try {
        const mapped = await resolveDuckTable(copy, 'p', 's', 'Mixed');
        if (mapped === null) throw new Error('no mapped table in the lake');
        const rows = await copy.readRows(mapped.table, ['A', 'a', 'b', 'gone'].map((n) => mapped.column(n)), mapped.mapped);
        assert.deepEqual(
          rows.map((r) => r.values),
          [
            ['3', '11', '0aff', undefined],
            ['1', '10', '0aff', undefined],
            ['2', '20', '0aff', undefined],
            ['4', '40', null, undefined],
          ],
        );
        assert.ok(rows.every((r, i) => i === 0 || r.rowid > rows[i - 1]!.rowid), 'rowids rise in insertion order');
      } finally {
        await copy.close();
      }
    } finally {
      await lake.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
