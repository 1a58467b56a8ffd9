import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fifo } from '../../../src/util/fifo.js';

test('fifo keeps order across compactions and reports length and last', () => {
  const q = new Fifo<number>();
  assert.equal(q.shift(), undefined);
  for (let i = 0; i < 5000; i++) q.push(i);
  for (let i = 0; i < 3000; i++) assert.equal(q.shift(), i);
  assert.equal(q.length, 2000);
  assert.equal(q.last(), 4999);
  q.push(5000);
  for (let i = 3000; i <= 5000; i++) assert.equal(q.shift(), i);
  assert.equal(q.length, 0);
  assert.equal(q.last(), undefined);
  q.push(7);
  q.clear();
  assert.equal(q.length, 0);
});
