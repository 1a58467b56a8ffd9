import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaptureInterrupts, captureWhileIdle, RELEASE_BYTES, SLICE_MS, sliceLimits } from '../../../src/activities/idle-poll.js';
import type { Checkpoint } from '../../../src/model/checkpoint.js';
import type { BatchLimits } from '../../../src/model/pipeline-spec.js';
import type { BatchSink, CaptureContext, CaptureOutcome, SourceConnector } from '../../../src/sources/source-connector.js';

const LIMITS: BatchLimits = { maxRows: 100, maxBytes: 1 << 20, maxWaitMs: 100, idleWaitMs: 400 };
const at = (lsn: number): Checkpoint => ({ position: { kind: 'pg', lsn: `0/${lsn.toString(16)}`, ackLsn: `0/${lsn.toString(16)}` }, batchId: 'b1' });

/** What one slice of the fake source does: nothing, move the position to an LSN, or stage a row. */
type Slice = { kind: 'nothing' } | { kind: 'move'; lsn: number } | { kind: 'row'; lsn: number };

/** A source whose slices follow a script (then bring nothing), each taking 20 ms or its idle wait if shorter. */
function fakeSource(script: Slice[]): { source: SourceConnector; sink: BatchSink & { empty: boolean }; slices: number[] } {
  let rows = 0;
  const slices: number[] = [];
  const sink = { get empty() { return rows === 0; } } as BatchSink & { empty: boolean };
  const source = {
    async capture(from: Checkpoint, _sink: BatchSink, limits: BatchLimits, ctx: CaptureContext): Promise<CaptureOutcome> {
      slices.push(limits.idleWaitMs);
      await new Promise((r) => setTimeout(r, Math.min(20, limits.idleWaitMs)));
      const step = script.shift() ?? { kind: 'nothing' };
      if (ctx.signal.aborted || step.kind === 'nothing') return { to: from, schemaChanges: [] };
      if (step.kind === 'row') rows++;
      return { to: { ...at(step.lsn), batchId: from.batchId }, schemaChanges: [] };
    },
    lagBytes(checkpoint: Checkpoint, current: { kind: string; lsn?: string }): number | null {
      const lsn = (c: string | undefined): number => parseInt((c ?? '0/0').split('/')[1] ?? '0', 16);
      return checkpoint.position?.kind === 'pg' ? lsn(current.lsn) - lsn(checkpoint.position.lsn) : null;
    },
  } as unknown as SourceConnector;
  return { source, sink, slices };
}

const ctx = (signal = new AbortController().signal): CaptureContext => ({ heartbeat: () => undefined, signal });

describe('idle captures wait (long poll)', () => {
  test('a capture that finds nothing waits out idleWaitMs, slice after slice, and returns its start', async () => {
    const { source, sink, slices } = fakeSource([]);
    const started = Date.now();
    const outcome = await captureWhileIdle({ source, from: at(0x100), sink, limits: LIMITS, ctx: ctx(), longPoll: true });
    assert.ok(Date.now() - started >= LIMITS.idleWaitMs - 5);
    assert.ok(slices.length > 3, `only ${slices.length} slices`);
    assert.deepEqual(outcome.to, at(0x100));
  });

  test('rows end the wait at once', async () => {
    const { source, sink, slices } = fakeSource([{ kind: 'nothing' }, { kind: 'row', lsn: 0x200 }]);
    const outcome = await captureWhileIdle({ source, from: at(0x100), sink, limits: LIMITS, ctx: ctx(), longPoll: true });
    assert.equal(slices.length, 2);
    assert.deepEqual(outcome.to, at(0x200));
  });

  test('a small position-only move is held to the end of the poll; a large one (or one the source cannot measure) ends it', async () => {
    const small = fakeSource([{ kind: 'move', lsn: 0x200 }, { kind: 'move', lsn: 0x300 }]);
    const held = await captureWhileIdle({ source: small.source, from: at(0x100), sink: small.sink, limits: LIMITS, ctx: ctx(), longPoll: true });
    assert.ok(small.slices.length > 3);
    assert.deepEqual(held.to, at(0x300), 'the latest move is returned');

    const large = fakeSource([{ kind: 'nothing' }, { kind: 'move', lsn: 0x100 + RELEASE_BYTES }]);
    const released = await captureWhileIdle({ source: large.source, from: at(0x100), sink: large.sink, limits: LIMITS, ctx: ctx(), longPoll: true });
    assert.equal(large.slices.length, 2);
    assert.deepEqual(released.to, at(0x100 + RELEASE_BYTES));

    const unknown = fakeSource([{ kind: 'move', lsn: 0x200 }]);
    const mysqlLike = Object.assign(Object.create(unknown.source) as SourceConnector, { lagBytes: () => null });
    await captureWhileIdle({ source: mysqlLike, from: at(0x100), sink: unknown.sink, limits: LIMITS, ctx: ctx(), longPoll: true });
    assert.equal(unknown.slices.length, 1);
  });

  test('cancellation ends the wait; catch-up runs and read-aheads take one slice', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 60);
    const { source, sink, slices } = fakeSource([]);
    const started = Date.now();
    await captureWhileIdle({ source, from: at(0x100), sink, limits: { ...LIMITS, idleWaitMs: 60_000 }, ctx: ctx(abort.signal), longPoll: true });
    assert.ok(Date.now() - started < 1_000);
    assert.ok(slices.every((ms) => ms === SLICE_MS), 'slices of a long poll last SLICE_MS at most');

    const once = fakeSource([]);
    await captureWhileIdle({ source: once.source, from: at(0x100), sink: once.sink, limits: LIMITS, ctx: ctx(), longPoll: false });
    assert.equal(once.slices.length, 1);
    assert.equal(sliceLimits({ ...LIMITS, idleWaitMs: 60_000 }).idleWaitMs, SLICE_MS);
  });

  test('a read-ahead already under way is the first slice', async () => {
    const { source, sink, slices } = fakeSource([]);
    const first = Promise.resolve({ to: at(0x100), schemaChanges: ['new table s.t'] });
    const outcome = await captureWhileIdle({ source, from: at(0x100), sink, limits: LIMITS, ctx: ctx(), longPoll: true, first });
    assert.equal(slices.length, 0, 'a schema change is something to load');
    assert.deepEqual(outcome.schemaChanges, ['new table s.t']);
  });

  test('interrupts end the capture registered for a pipeline, and only that one', () => {
    const interrupts = new CaptureInterrupts();
    const cancellation = new AbortController();
    const a = interrupts.register('a', cancellation.signal);
    const b = interrupts.register('b', cancellation.signal);
    assert.equal(interrupts.interrupt('a'), true);
    assert.equal(a.signal.aborted, true);
    assert.equal(b.signal.aborted, false);
    assert.equal(interrupts.interrupt('a'), false, 'nothing left to interrupt');
    b.done();
    assert.equal(interrupts.interrupt('b'), false);
    const c = interrupts.register('c', cancellation.signal);
    cancellation.abort();
    assert.equal(c.signal.aborted, true, 'the activity cancellation aborts it too');
  });
});
