import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IdleStreams } from '../../../src/activities/idle-streams.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('IdleStreams: a pipeline idle in this process lets go of its stream', () => {
  test('released once, idleMs after the last work ended; not while work runs; new work restarts the wait', async () => {
    const released: string[] = [];
    const streams = new IdleStreams((p) => {
      released.push(p);
      return Promise.resolve();
    }, 300);
    await streams.hold('a', () => sleep(400)); // longer than idleMs: running work is never released
    assert.deepEqual(released, []);
    await sleep(50);
    await streams.hold('a', () => Promise.resolve()); // within idleMs: the wait starts again
    await sleep(150);
    assert.deepEqual(released, [], 'the second work restarted the wait');
    await sleep(350);
    assert.deepEqual(released, ['a']);
    await sleep(400);
    assert.deepEqual(released, ['a'], 'released once');
  });

  test('overlapping work (a capture and a load) keeps the stream until both end; pipelines are independent', async () => {
    const released: string[] = [];
    const streams = new IdleStreams((p) => {
      released.push(p);
      return Promise.resolve();
    }, 100);
    const long = streams.hold('a', () => sleep(500));
    await streams.hold('a', () => sleep(10));
    await streams.hold('b', () => Promise.resolve());
    await sleep(250);
    assert.deepEqual(released, ['b'], 'a still has work running');
    await long;
    await sleep(250);
    assert.deepEqual(released, ['b', 'a']);
  });

  test('work that starts while a release runs waits for it, then opens the stream again', async () => {
    const order: string[] = [];
    const streams = new IdleStreams(async () => {
      order.push('release started');
      await sleep(60);
      order.push('release done');
    }, 10);
    await streams.hold('a', () => Promise.resolve());
    await sleep(30);
    await streams.hold('a', () => {
      order.push('work');
      return Promise.resolve();
    });
    assert.deepEqual(order, ['release started', 'release done', 'work']);
    streams.clear();
  });
});
