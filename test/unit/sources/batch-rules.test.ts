import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchRules, SnapshotBudget } from '../../../src/sources/batch-rules.js';

const LIMITS = { maxRows: 3, maxBytes: 1000, maxWaitMs: 500, idleWaitMs: 2000 };

describe('batch rules (every source)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  test('an idle batch waits up to idleWaitMs, polling at most a second at a time', () => {
    const rules = new BatchRules(LIMITS, { bytes: 0 });
    assert.equal(rules.closeNow(), false);
    assert.equal(rules.waitMs(), 1000);
    assert.equal(rules.drained(), false, 'nothing written: a quiet read does not close it');
    mock.timers.tick(1500);
    assert.equal(rules.waitMs(), 500);
    mock.timers.tick(500);
    assert.equal(rules.closeNow(), true);
  });

  test('after the first event: short quiet reads, drained when nothing more comes, closed maxWaitMs after it', () => {
    const rules = new BatchRules(LIMITS, { bytes: 0 });
    rules.begin();
    assert.equal(rules.waitMs(), 1000, 'inside a transaction the read waits for the rest of it');
    assert.equal(rules.wrote(), false);
    assert.equal(rules.drained(), false, 'a transaction is never cut for being quiet');
    rules.end();
    assert.equal(rules.waitMs(), 100);
    assert.equal(rules.drained(), true);
    mock.timers.tick(499);
    assert.equal(rules.closeNow(), false);
    mock.timers.tick(1);
    assert.equal(rules.closeNow(), true);
  });

  test('out of time inside a transaction: the transaction is finished first', () => {
    const rules = new BatchRules(LIMITS, { bytes: 0 });
    rules.wrote(); // a first write opens the transaction (sources without begin events)
    mock.timers.tick(600);
    assert.equal(rules.closeNow(), false);
    rules.end();
    assert.equal(rules.closeNow(), true);
  });

  test('full by rows across transactions closes at the boundary; one transaction alone is cut at the limit', () => {
    const many = new BatchRules(LIMITS, { bytes: 0 });
    for (let i = 0; i < 3; i++) {
      many.begin();
      assert.equal(many.wrote(), false);
      many.end();
      assert.equal(many.closeNow(), i === 2);
    }
    const one = new BatchRules(LIMITS, { bytes: 0 });
    one.begin();
    assert.deepEqual([one.wrote(), one.wrote(), one.wrote()], [false, false, true]);
  });

  test('bytes count from the batch start, and per transaction', () => {
    const sink = { bytes: 200 };
    const rules = new BatchRules(LIMITS, sink);
    rules.begin();
    sink.bytes = 900;
    assert.equal(rules.wrote(), false);
    sink.bytes = 1200;
    assert.equal(rules.wrote(), true, 'this transaction alone staged 1000 bytes');
    rules.end();
    assert.equal(rules.closeNow(), true);
  });

  test('a snapshot batch copies at most one chunk, within maxRows and maxBytes', () => {
    const sink = { bytes: 0 };
    const budget = new SnapshotBudget(LIMITS, 10, sink);
    assert.equal(budget.rowsLeft(), 3);
    budget.copied(2);
    assert.equal(budget.rowsLeft(), 1);
    assert.equal(budget.exhausted(), false);
    sink.bytes = 1000;
    assert.equal(budget.overBytes(), true);
    assert.equal(budget.exhausted(), true);
    const chunked = new SnapshotBudget({ ...LIMITS, maxRows: 100 }, 10, { bytes: 0 });
    chunked.copied(10);
    assert.equal(chunked.exhausted(), true);
  });
});
