import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { float32Text, formatInet6, fromBinlog, fromSnapshot } from '../../../../src/sources/mysql/mysql-values.js';

describe('binlog value conversion', () => {
  test('integers stay exact', () => {
    assert.equal(fromBinlog('int', 42), '42');
    assert.equal(fromBinlog('int', -128), '-128');
    assert.equal(fromBinlog('int', '18446744073709551615'), '18446744073709551615');
    assert.equal(fromBinlog('int', '-9223372036854775808'), '-9223372036854775808');
  });

  test('floats: shortest float32 text; doubles: round-trip text', () => {
    assert.equal(fromBinlog('float', Math.fround(1.1)), '1.1');
    assert.equal(float32Text(Math.fround(3.4028234663852886e38)), '3.4028235e+38');
    assert.equal(Math.fround(Number(float32Text(Math.fround(0.1)))), Math.fround(0.1));
    assert.equal(fromBinlog('double', 0.1), '0.1');
  });

  test('decimal strings pass through', () => {
    assert.equal(fromBinlog('decimal', '-1234567890123456789012345678.0123456789'), '-1234567890123456789012345678.0123456789');
  });

  test('binary data becomes hex digits without prefix', () => {
    assert.equal(fromBinlog('binary', Buffer.from([0x00, 0xff, 0x10])), '00ff10');
    assert.equal(fromSnapshot('binary', Buffer.from([0x00, 0xff])), '00ff');
  });

  test('temporal: µs kept, TIMESTAMP in UTC, zero dates are NULL', () => {
    assert.equal(fromBinlog('datetime', '2024-02-03 04:05:06.654321'), '2024-02-03 04:05:06.654321');
    assert.equal(fromBinlog('timestamp', '2024-02-03 04:05:06.123456'), '2024-02-03 04:05:06.123456+00');
    assert.equal(fromBinlog('timestamp', '0000-00-00 00:00:00'), null);
    assert.equal(fromBinlog('date', '0000-00-00'), null);
    assert.equal(fromBinlog('date', '2024-00-10'), null);
    assert.equal(fromBinlog('time', '-838:59:59.500'), '-838:59:59.500');
  });

  test('YEAR 0000 (zongji reports 1900) and ordinary years', () => {
    assert.equal(fromBinlog('year', 1900), '0');
    assert.equal(fromBinlog('year', 2024), '2024');
    assert.equal(fromSnapshot('year', Buffer.from('0000')), '0');
  });

  test('enum, set, bit', () => {
    assert.equal(fromBinlog('enum', 'y'), 'y');
    assert.equal(fromBinlog('enum', undefined), '');
    assert.equal(fromBinlog('set', 'a,c'), '["a","c"]');
    assert.equal(fromBinlog('set', ''), '[]');
    assert.equal(fromBinlog('bit', Buffer.from([0x02, 0x81])), '641');
    assert.equal(fromBinlog('bit', Buffer.from('ffffffffffffffff', 'hex')), '18446744073709551615');
    assert.equal(fromSnapshot('bit', Buffer.from([0x02, 0x81])), '641');
  });

  test('MariaDB UUID / INET from binlog bytes', () => {
    const uuid = Buffer.from('bbbdc59ae7e911f1b2eb02fc00000001', 'hex');
    assert.equal(fromBinlog('uuid', uuid), 'bbbdc59a-e7e9-11f1-b2eb-02fc00000001');
    assert.equal(fromBinlog('inet4', Buffer.from([10, 0, 0, 1])), '10.0.0.1');
    assert.equal(fromBinlog('inet6', Buffer.from('20010db8000000000000ff0000428329', 'hex')), '2001:db8::ff00:42:8329');
    assert.equal(formatInet6(Buffer.from('00000000000000000000000000000001', 'hex')), '::1');
    assert.equal(formatInet6(Buffer.from('00000000000000000000ffff01020304', 'hex')), '::ffff:1.2.3.4');
    assert.equal(formatInet6(Buffer.alloc(16)), '::');
  });

  test('json and geometry', () => {
    assert.equal(fromBinlog('json', '{"a": 1}'), '{"a": 1}');
    assert.equal(fromBinlog('geometry', { x: 1.5, y: 2 }), '{"x":1.5,"y":2}');
    assert.equal(fromSnapshot('geometry', { x: 1.5, y: 2 }), '{"x":1.5,"y":2}');
  });

  test('null stays null', () => {
    assert.equal(fromBinlog('int', null), null);
    assert.equal(fromSnapshot('text', null), null);
  });
});
