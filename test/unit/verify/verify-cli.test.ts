import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSample, splitTableList } from '../../../src/cli/verify.js';

describe('ducktail verify options', () => {
  test('--tables splits at commas outside quotes', () => {
    assert.deepEqual(splitTableList('a.b, "x,y".z ,`q`.`r,s`,'), ['a.b', '"x,y".z', '`q`.`r,s`']);
  });

  test('--sample takes a whole number, 0 or more', () => {
    assert.equal(parseSample('0'), 0);
    assert.equal(parseSample('25'), 25);
    assert.throws(() => parseSample('-1'), /whole number/);
    assert.throws(() => parseSample('2.5'), /whole number/);
  });
});
