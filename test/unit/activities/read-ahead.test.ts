import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { ReadAheads } from '../../../src/activities/read-ahead.js';
import { parsePipelineSpec } from '../../../src/config/load-config.js';
import type { Checkpoint } from '../../../src/model/checkpoint.js';
import type { PipelineSpec } from '../../../src/model/pipeline-spec.js';
import type { BatchSink, CaptureContext, CaptureOutcome, SourceConnector } from '../../../src/sources/source-connector.js';
import { spoolRoot } from '../../../src/staging/spool-paths.js';

const at = (lsn: string): Checkpoint => ({ position: { kind: 'pg', lsn, ackLsn: lsn }, batchId: 'b1' });

/** A source whose capture writes one row, then waits until it is aborted or released. */
class FakeSource {
  captures = 0;
  contexts: CaptureContext[] = [];
  release: () => void = () => undefined;
  capture(from: Checkpoint, sink: BatchSink, _limits: unknown, ctx: CaptureContext): Promise<CaptureOutcome> {
    this.captures++;
    this.contexts.push(ctx);
    sink.setSchema({ table: 's.t', columns: [{ name: 'id', sourceType: 'int', duckType: 'INTEGER', encoding: 'text' }], primaryKey: ['id'] });
    return Promise.resolve(sink.write({ op: 'insert', table: 's.t', position: '0/20', commitTs: null, seq: 0, values: ['1'] })).then(
      () =>
        new Promise<CaptureOutcome>((resolve) => {
          const done = (): void => resolve({ to: { ...from, position: { kind: 'pg', lsn: '0/20', ackLsn: '0/20' } }, schemaChanges: [] });
          this.release = done;
          ctx.signal.addEventListener('abort', done, { once: true });
        }),
    );
  }
}

describe('read-ahead of the next batch', () => {
  let dir: string;
  let spec: PipelineSpec;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ducktail-readahead-'));
    spec = parsePipelineSpec({
      name: 'ra',
      source: { kind: 'postgres', host: 'localhost', user: 'u', database: 'd', tables: ['s.t'] },
      destination: { path: path.join(dir, 'x.duckdb') },
    });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  test('is taken over by the next capture of the same spec, with its heartbeats and cancellation', async () => {
    const source = new FakeSource();
    const aheads = new ReadAheads(pino({ level: 'silent' }));
    await aheads.start(spec, source as unknown as SourceConnector, at('0/10'));
    const ahead = await aheads.take(spec);
    assert.ok(ahead !== null);
    assert.deepEqual(ahead.from, at('0/10'));
    let beats = 0;
    const cancel = new AbortController();
    ahead.adopt({ heartbeat: () => beats++, signal: cancel.signal });
    source.contexts[0]!.heartbeat();
    assert.equal(beats, 1, 'heartbeats go to the activity that took it over');
    cancel.abort();
    assert.equal(source.contexts[0]!.signal.aborted, true, "the activity's cancellation stops it");
    const outcome = await ahead.done;
    assert.ok(!(outcome instanceof Error));
    assert.equal(ahead.writer.events, 1);
    assert.equal(await aheads.take(spec), null, 'taken once');
  });

  test('under another spec it is discarded: capture stopped, staged files removed', async () => {
    const source = new FakeSource();
    const aheads = new ReadAheads(pino({ level: 'silent' }));
    await aheads.start(spec, source as unknown as SourceConnector, at('0/10'));
    assert.equal((await readdir(spoolRoot(spec))).length, 1);
    const changed = { ...spec, batch: { ...spec.batch, maxRows: 7 } };
    assert.equal(await aheads.take(changed), null);
    assert.equal(source.contexts[0]!.signal.aborted, true);
    assert.deepEqual(await readdir(spoolRoot(spec)), []);
  });

  test('starting another one, or dropping it, discards the one pending', async () => {
    const source = new FakeSource();
    const aheads = new ReadAheads(pino({ level: 'silent' }));
    await aheads.start(spec, source as unknown as SourceConnector, at('0/10'));
    await aheads.start(spec, source as unknown as SourceConnector, at('0/20'));
    assert.equal(source.contexts[0]!.signal.aborted, true);
    assert.equal((await readdir(spoolRoot(spec))).length, 1);
    await aheads.drop(spec.name);
    assert.equal(source.contexts[1]!.signal.aborted, true);
    assert.deepEqual(await readdir(spoolRoot(spec)), []);
    assert.equal(await aheads.take(spec), null);
  });
});
