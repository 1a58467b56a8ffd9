import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEvent } from '../../../src/model/change-event.js';
import { column, Harness, row, schema } from './duckdb-kit.js';

const T = 'km.t';
const s = schema(T, [column('id', 'INTEGER'), column('big'), column('n', 'INTEGER')]);

/** An update of the row with key `from` to key `to`; `big` not sent (an unchanged TOASTed value). */
function move(from: string, to: string, n: string): ChangeEvent {
  return { ...row(T, 'update', [to, undefined, n]), oldKey: [from] } as ChangeEvent;
}

for (const mode of ['merge', 'append'] as const) {
  describe(`DuckDB destination, updates that change the primary key (${mode})`, () => {
    let h: Harness;
    before(async () => {
      h = await Harness.open();
    });
    after(async () => {
      await h.close();
    });
    const apply = (steps: Parameters<Harness['apply']>[0]): Promise<unknown> => h.apply(steps, { mode });
    const live = async (): Promise<unknown> =>
      mode === 'merge'
        ? h.query('SELECT id, big, n FROM km.t WHERE NOT __deleted ORDER BY id')
        : h.query('SELECT id, big, n FROM km.t QUALIFY row_number() OVER (PARTITION BY id ORDER BY rowid DESC) = 1 AND __op <> \'delete\' ORDER BY id');

    test('the old key is retired and unsent values follow the row, across batches and in chains within one', async () => {
      await apply([s, row(T, 'insert', ['1', 'one', '1']), row(T, 'insert', ['10', 'ten', '10']), row(T, 'insert', ['11', 'eleven', '11'])]);
      await apply([s, move('1', '2', '2')]);
      if (mode === 'merge') assert.deepEqual(await live(), [{ id: 2, big: 'one', n: 2 }, { id: 10, big: 'ten', n: 10 }, { id: 11, big: 'eleven', n: 11 }]);
      // One batch: a chain 2→3→4, a swap of 10 and 11 through 12, and the old key 2 inserted again.
      await apply([
        s,
        move('2', '3', '3'),
        row(T, 'update', ['3', undefined, '33']),
        move('3', '4', '4'),
        move('10', '12', '0'),
        move('11', '10', '0'),
        move('12', '11', '0'),
        row(T, 'insert', ['2', 'two again', '2']),
      ]);
      const expected = [
        { id: 2, big: 'two again', n: 2 },
        { id: 4, big: 'one', n: 4 },
        { id: 10, big: 'eleven', n: 0 },
        { id: 11, big: 'ten', n: 0 },
      ];
      if (mode === 'merge') {
        assert.deepEqual(await live(), expected);
        assert.deepEqual(await h.query('SELECT id, __op FROM km.t WHERE __deleted ORDER BY id'), [
          { id: 1, __op: 'delete' },
          { id: 3, __op: 'delete' },
          { id: 12, __op: 'delete' },
        ]);
      } else {
        // One row per change, the moved rows carrying every value.
        assert.deepEqual(await h.query('SELECT id, big, n, __op FROM km.t ORDER BY rowid'), [
          { id: 1, big: 'one', n: 1, __op: 'insert' },
          { id: 10, big: 'ten', n: 10, __op: 'insert' },
          { id: 11, big: 'eleven', n: 11, __op: 'insert' },
          { id: 2, big: 'one', n: 2, __op: 'update' },
          { id: 3, big: 'one', n: 3, __op: 'update' },
          { id: 3, big: 'one', n: 33, __op: 'update' },
          { id: 4, big: 'one', n: 4, __op: 'update' },
          { id: 12, big: 'ten', n: 0, __op: 'update' },
          { id: 10, big: 'eleven', n: 0, __op: 'update' },
          { id: 11, big: 'ten', n: 0, __op: 'update' },
          { id: 2, big: 'two again', n: 2, __op: 'insert' },
        ]);
      }
    });
  });
}
