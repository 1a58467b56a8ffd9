import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runQuery, type QueryOptions } from '../../../src/cli/query.js';
import type { DucktailConfig } from '../../../src/config/load-config.js';
import { parsePipelineSpec } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import { LAKE_SKIP } from '../../helpers/ducklake.js';
import { runCli } from '../../helpers/temporal.js';
import { column, Harness, PIPELINE, row, schema } from '../duckdb/duckdb-kit.js';

const ITEMS = 'shop.items';
const items = schema(ITEMS, [column('id', 'INTEGER'), column('name'), column('qty', 'INTEGER')]);
const EVENTS = 'app.events';
const events = schema(EVENTS, [column('id', 'INTEGER'), column('body'), column('n', 'INTEGER')]);
const BATCHES = 10;

describe('DuckLake: query as of a source position', { skip: LAKE_SKIP }, () => {
  let h: Harness;
  let config: DucktailConfig;
  let configFile: string;
  before(async () => {
    h = await Harness.openLake();
    // Batch k (position 0/k, read as hex: 0/10 is after 0/9) inserts item k and sets item 1's qty to k.
    for (let k = 1; k <= BATCHES; k++) {
      const at = `0/${k}`;
      await h.apply([items, row(ITEMS, 'insert', [String(k), `item${k}`, String(k)], at), ...(k > 1 ? [row(ITEMS, 'update', ['1', undefined, String(k)], at)] : [])]);
      if (k === 3) {
        // Another pipeline writes the same lake between batches 3 and 4 of the first.
        const other = await h.asPipeline('other');
        await other.apply([events, row(EVENTS, 'insert', ['1', 'x', '1'], '0/100')], { mode: 'append' });
      }
    }
    const spec = (name: string) => parsePipelineSpec({ name, source: { kind: 'postgres', tables: [ITEMS] }, destination: h.lake.destination });
    const file = parsePipelineSpec({ name: 'filep', source: { kind: 'postgres', tables: [ITEMS] }, destination: { path: path.join(h.dir, 'f.duckdb') } });
    config = { file: path.join(h.dir, 'ducktail.yaml'), temporal: { namespace: 'default', taskQueue: 'q' }, pipelines: [spec(PIPELINE), spec('other'), file] };
    configFile = config.file;
    await writeFile(
      configFile,
      `pipelines:\n  - name: ${PIPELINE}\n    source: { kind: postgres, tables: [${ITEMS}] }\n    destination: { kind: ducklake, catalog: "${h.lake.destination.catalog}", dataPath: "${h.lake.destination.dataPath}" }\n`,
    );
  });
  after(async () => {
    await h?.close();
  });

  const asOf = async (pos: string, sql = 'SELECT id, qty FROM shop.items ORDER BY id'): Promise<unknown> => {
    const opts: QueryOptions = { pipeline: PIPELINE, json: true, csv: false, asOfPosition: pos };
    return JSON.parse(await runQuery(config, sql, opts));
  };
  const stateAfter = (k: number) => Array.from({ length: k }, (_, i) => ({ id: i + 1, qty: i === 0 ? k : i + 1 }));

  test('every commit records its pipeline and position in the lake snapshot', async () => {
    const rows = await h.query("SELECT author, commit_message AS m, commit_extra_info AS x FROM lake.snapshots() WHERE commit_message LIKE '% at 0/3'");
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.author, 'ducktail');
    assert.equal(rows[0]!.m, `${PIPELINE} at 0/3`);
    assert.deepEqual(JSON.parse(rows[0]!.x as string), { pipeline: PIPELINE, position: { kind: 'pg', lsn: '0/3', ackLsn: '0/3' }, text: '0/3' });
  });

  test('as of a checkpoint: every table exactly as that commit left it', async () => {
    assert.deepEqual(await asOf('0/3'), stateAfter(3));
    // The other pipeline created its table after 0/3 and before 0/4: as of 0/3 it does not exist yet.
    await assert.rejects(asOf('0/3', 'SELECT count(*)::INT AS n FROM app.events'), /app\.events" does not exist/);
    assert.deepEqual(await asOf('0/4', 'SELECT count(*)::INT AS n FROM app.events'), [{ n: 1 }]);
    // Positions order as LSNs: 0/9 is before 0/10, though not as text.
    assert.deepEqual(await asOf('0/9'), stateAfter(9));
    assert.deepEqual(await asOf('0/10'), stateAfter(10));
    assert.deepEqual(await asOf('00000000/00000009'), stateAfter(9));
    // Today's state is the last commit's.
    assert.deepEqual(JSON.parse(await runQuery(config, 'SELECT id, qty FROM shop.items ORDER BY id', { pipeline: PIPELINE, json: true, csv: false })), stateAfter(BATCHES));
  });

  test('a position between two commits reads as of the earlier one; after the last, the last', async () => {
    assert.deepEqual(await asOf('0/C'), stateAfter(9)); // 0/9 < 0/C < 0/10
    assert.deepEqual(await asOf('5/0'), stateAfter(BATCHES));
  });

  test('as of a snapshot id', async () => {
    const [snap] = await h.query(`SELECT snapshot_id::VARCHAR AS id FROM lake.snapshots() WHERE commit_message = '${PIPELINE} at 0/5'`);
    assert.equal(typeof snap?.id, 'string');
    const out = await runQuery(config, 'SELECT id, qty FROM shop.items ORDER BY id', { pipeline: PIPELINE, json: true, csv: false, asOfSnapshot: snap?.id as string });
    assert.deepEqual(JSON.parse(out), stateAfter(5));
  });

  test('clear errors: an unparseable position, one before the first commit, a DuckDB file, no pipeline named', async () => {
    const refused = async (p: Promise<unknown>, re: RegExp): Promise<void> => {
      await assert.rejects(p, (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, re);
        return true;
      });
    };
    await refused(asOf('yesterday'), /not a source position[\s\S]*LSN \(e\.g\. 0\/16B3748\).*file:offset/);
    await refused(asOf('0/0'), /before pipeline .* first commit[\s\S]*at or after 0\/1, the earliest available/);
    await refused(asOf('mysql-bin.000001:4'), /records PostgreSQL LSNs/);
    await refused(runQuery(config, 'SELECT 1', { pipeline: 'filep', json: true, csv: false, asOfPosition: '0/1' }), /DuckLake feature/);
    await refused(runQuery(config, 'SELECT 1', { json: true, csv: false, asOfPosition: '0/1' }), /needs the pipeline/);
  });

  test('the CLI: ducktail query --as-of-position', async () => {
    const ok = await runCli(['--config', configFile, 'query', '--pipeline', PIPELINE, '--as-of-position', '0/2', '--csv', 'SELECT id, qty FROM shop.items ORDER BY id']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), 'id,qty\n1,2\n2,2');
    const bad = await runCli(['--config', configFile, 'query', '--as-of-position', '0/0', 'SELECT 1']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /earliest available/);
  });
});
