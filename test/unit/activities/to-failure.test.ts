import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure, type Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { asActivity, REPEATED_FAILURE_ATTEMPTS } from '../../../src/activities/to-failure.js';
import { BadValueError, DestinationBusyError } from '../../../src/errors.js';

const conflict = 'TransactionContext Error: Failed to commit: Attempting to modify table t but another transaction has altered this table';

const quiet = (): void => undefined;
const silent: Logger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };

/** Runs one attempt of an activity execution (same activity id across attempts, like Temporal's retries). */
function attempt(n: number, activityId: string, fail: () => never): Promise<unknown> {
  const env = new MockActivityEnvironment({
    attempt: n,
    activityId,
    activityType: 'loadBatch',
    workflowExecution: { workflowId: 'ducktail-shop', runId: 'run-1' },
  }, { logger: silent });
  return env.run(() => asActivity(() => Promise.resolve().then(fail)));
}

test('an unclassified error is retried, then parks as a non-retryable RepeatedFailure naming the fix', async () => {
  for (let n = 1; n < REPEATED_FAILURE_ATTEMPTS; n++) {
    await assert.rejects(attempt(n, 'a1', () => { throw new Error(conflict); }), (err: unknown) => !(err instanceof ApplicationFailure) && (err as Error).message === conflict);
  }
  await assert.rejects(attempt(REPEATED_FAILURE_ATTEMPTS, 'a1', () => { throw new Error(conflict); }), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'RepeatedFailure');
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /loadBatch of pipeline shop failed 6 attempts in a row/);
    assert.match(err.message, /another transaction has altered this table/);
    assert.match(err.message, /fix: fix the cause, then `ducktail resume shop`/);
    return true;
  });
});

test('a transient failure in between resets the count: an outage and one odd error do not park', async () => {
  for (let n = 1; n <= 8; n++) {
    await assert.rejects(attempt(n, 'a2', () => { throw new DestinationBusyError('held by a reader', 'close it'); }), (err: unknown) => err instanceof ApplicationFailure && !err.nonRetryable);
  }
  for (let n = 9; n < 9 + REPEATED_FAILURE_ATTEMPTS - 1; n++) {
    await assert.rejects(attempt(n, 'a2', () => { throw new Error('odd'); }), (err: unknown) => !(err instanceof ApplicationFailure));
  }
  await assert.rejects(attempt(9 + REPEATED_FAILURE_ATTEMPTS - 1, 'a2', () => { throw new Error('odd'); }), (err: unknown) => err instanceof ApplicationFailure && err.type === 'RepeatedFailure');
});

test('Ducktail errors keep their type and retryability', async () => {
  await assert.rejects(attempt(1, 'a3', () => { throw new BadValueError('bad value', 'fix it'); }), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'BadValueError');
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /bad value\n {2}fix: fix it/);
    return true;
  });
});

test('outside an activity an unclassified error passes through unchanged', async () => {
  await assert.rejects(asActivity(() => Promise.reject(new Error('plain'))), (err: unknown) => (err as Error).message === 'plain');
});
