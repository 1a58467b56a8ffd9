import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TableNotFoundError } from '../../../src/errors.js';
import { similarNames, TableSelection } from '../../../src/sources/table-selection.js';

describe('table selection (every source)', () => {
  test('exact names and schema wildcards', () => {
    const s = new TableSelection(['public.orders', 'sales.*', '"odd schema"."Odd.Name"']);
    assert.equal(s.includes('public', 'orders'), true);
    assert.equal(s.includes('public', 'order'), false);
    assert.equal(s.includes('sales', 'anything'), true);
    assert.equal(s.includes('odd schema', 'Odd.Name'), true);
    assert.deepEqual(s.wildcards, ['sales']);
    assert.deepEqual(s.schemas, ['sales', 'public', 'odd schema']);
    assert.equal(s.named('public', 'orders'), true);
    assert.equal(s.named('sales', 'anything'), false);
  });
  test('pick keeps the selected tables, sorted, and names a missing one with similar names', () => {
    const s = new TableSelection(['shop.orders', 'logs.*']);
    const existing = [
      { schema: 'shop', name: 'orders' },
      { schema: 'shop', name: 'other' },
      { schema: 'logs', name: 'b' },
      { schema: 'logs', name: 'a' },
    ];
    assert.deepEqual(s.pick(existing).map((t) => `${t.schema}.${t.name}`), ['logs.a', 'logs.b', 'shop.orders']);
    const typo = new TableSelection(['shop.ordres']);
    assert.throws(() => typo.pick(existing), (e: unknown) => e instanceof TableNotFoundError && /shop\.ordres does not exist/.test(e.message) && /did you mean shop\.orders/.test(e.message));
  });
  test('similar names', () => {
    assert.deepEqual(similarNames('public.ordres', ['public.orders', 'public.customers', 'other.ordres']), ['other.ordres', 'public.orders']);
    assert.deepEqual(similarNames('public.zzz', ['public.orders']), []);
  });
});
