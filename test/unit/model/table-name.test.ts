import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTableRef } from '../../../src/model/table-name.js';

describe('configured table names', () => {
  test('bare parts are taken as written; quoted parts may hold dots, spaces, quotes and unicode', () => {
    assert.deepEqual(parseTableRef('public.Orders'), { schema: 'public', name: 'Orders' });
    assert.deepEqual(parseTableRef('public.*'), { schema: 'public', name: '*' });
    assert.deepEqual(parseTableRef('public."Odd Name"'), { schema: 'public', name: 'Odd Name' });
    assert.deepEqual(parseTableRef('"my schema"."a.b ""c"""'), { schema: 'my schema', name: 'a.b "c"' });
    assert.deepEqual(parseTableRef('`shop`.`order items`'), { schema: 'shop', name: 'order items' });
    assert.deepEqual(parseTableRef('app."Ünïcødé"'), { schema: 'app', name: 'Ünïcødé' });
    assert.deepEqual(parseTableRef('app.select'), { schema: 'app', name: 'select' });
  });

  test('anything else is refused', () => {
    for (const bad of ['orders', 'public.Odd Name', 'a.b.c', '"a.b".t', 'public.', '.t', 'public."unclosed', 'public.""']) {
      assert.equal(parseTableRef(bad), null, bad);
    }
  });
});
