import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { BatchManifest } from '../../../src/model/batch.js';
import type { TableSchema } from '../../../src/model/table-schema.js';
import { SPOOL_FIELDS, type SpoolLine } from '../../../src/staging/spool-format.js';
import { SpoolWriter } from '../../../src/staging/spool-writer.js';
import { tempDir } from '../../helpers/pipelines.js';

const v1: TableSchema = {
  table: 'public.t',
  primaryKey: ['id'],
  columns: [
    { name: 'id', sourceType: 'int4', duckType: 'INTEGER', encoding: 'text' },
    { name: 'big', sourceType: 'text', duckType: 'VARCHAR', encoding: 'text' },
  ],
};
const v2: TableSchema = { ...v1, columns: [...v1.columns, { name: 'extra', sourceType: 'int4', duckType: 'INTEGER', encoding: 'text' }] };
const base = { position: '0/10', commitTs: '2026-01-01T00:00:00.000001Z' };

test('spool: segments per schema run, truncates in order, unsent values, manifest last', async () => {
  const dir = path.join(await tempDir('spool'), 'b1');
  const from = { position: null, batchId: '' };
  const w = await SpoolWriter.create(dir, 'p', 'b1', from);
  w.setSchema(v1);
  await w.write({ ...base, table: 'public.t', op: 'insert', seq: 0, values: ['1', 'x'] });
  await w.write({ ...base, table: 'public.t', op: 'update', seq: 1, values: ['1', undefined] });
  await w.write({ ...base, table: 'public.t', op: 'truncate', seq: 2 });
  await w.write({ ...base, table: 'public.t', op: 'insert', seq: 3, values: ['2', null] });
  w.setSchema(v1); // unchanged: same segment
  w.setSchema(v2);
  await w.write({ ...base, table: 'public.t', op: 'insert', seq: 4, values: ['3', 'y', '7'] });
  assert.throws(() => w.write({ ...base, table: 'public.t', op: 'insert', seq: 5, values: ['3'] }), /1 values but the schema has 3/);
  const to = { position: { kind: 'pg' as const, lsn: '0/10', ackLsn: '0/11' }, batchId: 'b1' };
  const summary = await w.finish(to, ['public.t: added column extra']);

  assert.equal(summary.events, 5);
  assert.deepEqual(summary.counts, { 'public.t': { insert: 3, update: 1, truncate: 1 } });
  assert.equal(summary.lastCommitTs, base.commitTs);
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as BatchManifest;
  assert.deepEqual(manifest.segments.map((s) => [s.kind, s.kind === 'rows' ? s.rows : 0, 'schema' in s ? s.schema.columns.length : 0]), [
    ['rows', 2, 2],
    ['truncate', 0, 2],
    ['rows', 1, 2],
    ['rows', 1, 3],
  ]);
  const first = manifest.segments[0]!;
  assert.ok(first.kind === 'rows');
  const lines = (await readFile(path.join(dir, first.file), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as SpoolLine);
  assert.deepEqual(lines[1], { n: 1, o: 'u', q: 1, p: '0/10', t: base.commitTs, u: [1], c: ['1', null], k: null });
  assert.deepEqual(Object.keys(lines[1] ?? {}), SPOOL_FIELDS.map((f) => f.name), 'lines carry the fields readers declare, in order');
  assert.deepEqual(manifest.to, to);
});

test('spool: an event before its table schema is refused', async () => {
  const w = await SpoolWriter.create(path.join(await tempDir('spool'), 'b2'), 'p', 'b2', { position: null, batchId: '' });
  assert.throws(() => w.write({ ...base, table: 'public.x', op: 'insert', seq: 0, values: [] }), /no schema declared for public\.x/);
  await w.abort();
});

test('spool: abort with writes in flight neither crashes the process nor leaves files', async () => {
  const dir = path.join(await tempDir('spool'), 'b3');
  const w = await SpoolWriter.create(dir, 'p', 'b3', { position: null, batchId: '' });
  w.setSchema(v1);
  const big = 'x'.repeat(64 * 1024);
  // Writes resolve once buffered; several are still being written to disk when abort() runs.
  for (let i = 0; i < 50; i++) await w.write({ ...base, table: 'public.t', op: 'insert', seq: i, values: [String(i), big] });
  const uncaught: unknown[] = [];
  const onError = (err: unknown): void => void uncaught.push(err);
  process.on('uncaughtException', onError);
  try {
    await w.abort();
    await w.abort();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off('uncaughtException', onError);
  }
  assert.deepEqual(uncaught, []);
  await assert.rejects(readFile(path.join(dir, '00000.ndjson')), /ENOENT/);
  assert.throws(() => w.write({ ...base, table: 'public.t', op: 'insert', seq: 99, values: ['99', 'y'] }), /aborted/);
});

test('spool: a file error fails the batch, not the process', async () => {
  const root = await tempDir('spool');
  const dir = path.join(root, 'b4');
  const w = await SpoolWriter.create(dir, 'p', 'b4', { position: null, batchId: '' });
  w.setSchema(v1);
  const { rm } = await import('node:fs/promises');
  await rm(dir, { recursive: true, force: true }); // e.g. a concurrent clean-up removed the directory
  await Promise.resolve().then(() => w.write({ ...base, table: 'public.t', op: 'insert', seq: 0, values: ['1', 'x'] })).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 50));
  await assert.rejects(
    w.finish({ position: { kind: 'pg', lsn: '0/10', ackLsn: '0/11' }, batchId: 'b4' }, []),
    /writing the staged batch in .*b4 failed: ENOENT/,
  );
  await w.abort();
});
