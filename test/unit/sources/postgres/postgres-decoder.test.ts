import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pgoutput } from 'pg-logical-replication';
import { commitTimeIso, TextPgoutputPlugin } from '../../../../src/sources/postgres/postgres-decoder.js';

const PG_EPOCH_UNIX_MICROS = 946_684_800_000_000n;

function beginMessage(pgMicros: bigint): Buffer {
  const b = Buffer.alloc(1 + 8 + 8 + 4);
  b.write('B', 0);
  b.writeBigUInt64BE(0x16b3748n, 1);
  b.writeBigUInt64BE(pgMicros, 9);
  b.writeInt32BE(42, 17);
  return b;
}

function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s), Buffer.from([0])]);
}

describe('commit time', () => {
  test('ISO-8601 UTC with microseconds', () => {
    assert.equal(commitTimeIso(PG_EPOCH_UNIX_MICROS), '2000-01-01T00:00:00.000000Z');
    assert.equal(commitTimeIso(1_704_164_645_123_456n), '2024-01-02T03:04:05.123456Z');
    assert.equal(commitTimeIso(1_704_164_645_000_007n), '2024-01-02T03:04:05.000007Z');
  });
  test('pgoutput begin carries µs since 2000-01-01; the decoded commitTs is the right instant', () => {
    const plugin = new TextPgoutputPlugin({ protoVersion: 1, publicationNames: ['p'] });
    const msg = plugin.parse(beginMessage(757_479_845_123_456n)) as Pgoutput.MessageBegin;
    assert.equal(commitTimeIso(msg.commitTime as unknown as bigint), '2024-01-02T03:04:05.123456Z');
    assert.equal(msg.commitLsn, '00000000/016B3748');
  });
});

describe('TextPgoutputPlugin', () => {
  test('keeps values as text, null as null and unchanged TOAST as undefined', () => {
    const plugin = new TextPgoutputPlugin({ protoVersion: 1, publicationNames: ['p'] });
    const col = (name: string, oid: number) => Buffer.concat([Buffer.from([1]), cstr(name), Buffer.from([0, 0, 0, oid]), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
    const relation = Buffer.concat([Buffer.from('R'), Buffer.from([0, 0, 0, 7]), cstr('public'), cstr('t'), Buffer.from('d'), Buffer.from([0, 3]), col('a', 20), col('b', 184), col('c', 25)]);
    plugin.parse(relation);
    const text = (s: string) => Buffer.concat([Buffer.from('t'), Buffer.from([0, 0, 0, Buffer.byteLength(s)]), Buffer.from(s)]);
    const insert = Buffer.concat([Buffer.from('U'), Buffer.from([0, 0, 0, 7]), Buffer.from('N'), Buffer.from([0, 3]), text('9007199254740993'), Buffer.from('n'), Buffer.from('u')]);
    const msg = plugin.parse(insert) as Pgoutput.MessageUpdate;
    assert.equal(msg.new.a, '9007199254740993');
    assert.equal(msg.new.b, null);
    assert.ok('c' in msg.new);
    assert.equal(msg.new.c, undefined);
    assert.equal(plugin.parsed, 2);
  });
});
