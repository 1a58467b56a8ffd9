import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatRetention } from '../../../src/cli/status.js';
import { parsePipelineSpec } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import type { MysqlPosition } from '../../../src/model/position.js';
import { DEFAULT_RETENTION, retentionSettings, type SourceRetention } from '../../../src/model/retention.js';
import { binlogBytesFrom, binlogExpiry, binlogExpirySeconds, binlogRetention } from '../../../src/sources/mysql/mysql-retention.js';
import { positionLostHint } from '../../../src/sources/position-lost.js';
import { slotLost, slotRetention, type SlotRetention } from '../../../src/sources/postgres/postgres-retention.js';
import { thresholdWarning } from '../../../src/sources/retention.js';
import { formatDuration } from '../../../src/util/duration.js';

const DAY = 86_400;
const at = (file: string, pos: number): MysqlPosition => ({ kind: 'mysql', file, pos });
const files = [
  { file: 'bin.000007', size: 1_000 },
  { file: 'bin.000008', size: 5_000 },
  { file: 'bin.000009', size: 300 },
];

describe('binlog expiry settings', () => {
  test('binlog_expire_logs_seconds wins when set, else expire_logs_days (fractional on MariaDB); 0 or auto purge OFF never purge', () => {
    assert.equal(binlogExpirySeconds({ binlog_expire_logs_seconds: '604800', expire_logs_days: '7.000000' }), 604_800, 'MariaDB 10.11 has both, in step');
    assert.equal(binlogExpirySeconds({ binlog_expire_logs_seconds: '3600', expire_logs_days: '0' }), 3_600, 'MySQL 8');
    assert.equal(binlogExpirySeconds({ binlog_expire_logs_seconds: '0', expire_logs_days: '2' }), 2 * DAY, 'MySQL 8 with only the old variable set');
    assert.equal(binlogExpirySeconds({ expire_logs_days: '0.5' }), DAY / 2, 'older MariaDB');
    assert.equal(binlogExpirySeconds({ binlog_expire_logs_seconds: '0', expire_logs_days: '0' }), null);
    assert.equal(binlogExpirySeconds({}), null);
    assert.equal(binlogExpirySeconds({ binlog_expire_logs_seconds: '2592000', binlog_expire_logs_auto_purge: 'OFF' }), null);
  });
});

describe('binlog bytes from a position', () => {
  test('the rest of its file plus every later file; purged when its file is gone', () => {
    assert.deepEqual(binlogBytesFrom(files, at('bin.000008', 1_000)), { bytes: 4_000 + 300, current: false });
    assert.deepEqual(binlogBytesFrom(files, at('bin.000009', 300)), { bytes: 0, current: true });
    assert.equal(binlogBytesFrom(files, at('bin.000006', 4)), 'purged');
  });

  test('binlogRetention: oldest binlog, expiry, and nothing to tell without a position or binlog list', () => {
    const now = new Date('2026-01-10T00:00:00Z');
    const r = binlogRetention(at('bin.000008', 1_000), files, 7 * DAY, now.getTime() - 6.5 * DAY * 1000, now);
    assert.ok(r !== 'purged');
    assert.equal(r.bytes, 4_300);
    assert.equal(r.oldestBinlog, 'bin.000008');
    assert.equal(r.binlogExpirySeconds, 7 * DAY);
    assert.equal(r.purgeInSeconds, DAY / 2);
    assert.match(r.warnings[0] ?? '', /binlog bin\.000008, the oldest the pipeline still needs, may be purged in about 12\.0 h \(binlog expiry 7\.0 d\)/);
    assert.deepEqual(binlogRetention(null, files, null, null, now), { bytes: null, log: 'binlog', warnings: [], measuredAt: now.toISOString() }, 'no position yet');
    const off = binlogRetention(at('bin.000008', 1), [], 7 * DAY, null, now);
    assert.ok(off !== 'purged' && off.bytes === null, 'no binlog list: cannot tell, not purged');
    assert.equal(binlogRetention(at('bin.000001', 4), files, null, null, now), 'purged');
  });
});

describe('binlog expiry warning', () => {
  const base = { file: 'bin.000008', current: false, expirySeconds: 4 * DAY, nowMs: Date.parse('2026-01-10T00:00:00Z') };
  const ago = (seconds: number) => base.nowMs - seconds * 1000;

  test('none for the binlog being written, without expiry, or when its age is unknown', () => {
    assert.deepEqual(binlogExpiry({ ...base, current: true, modifiedAfterMs: ago(10 * DAY) }), {});
    assert.deepEqual(binlogExpiry({ ...base, expirySeconds: null, modifiedAfterMs: ago(10 * DAY) }), {});
    assert.deepEqual(binlogExpiry({ ...base, modifiedAfterMs: null }), {});
  });

  test('time left without a warning while more than a quarter of the expiry is left', () => {
    assert.deepEqual(binlogExpiry({ ...base, modifiedAfterMs: ago(2 * DAY) }), { purgeInSeconds: 2 * DAY });
    assert.deepEqual(binlogExpiry({ ...base, modifiedAfterMs: ago(3 * DAY - 1) }), { purgeInSeconds: DAY + 1 });
  });

  test('a warning in the last quarter, and "at the next rotation" once the age is past the expiry', () => {
    const near = binlogExpiry({ ...base, modifiedAfterMs: ago(3 * DAY) });
    assert.equal(near.purgeInSeconds, DAY);
    assert.match(near.warning ?? '', /may be purged in about 24\.0 h \(binlog expiry 4\.0 d\)[\s\S]*binlog_expire_logs_seconds/);
    const due = binlogExpiry({ ...base, modifiedAfterMs: ago(5 * DAY) });
    assert.equal(due.purgeInSeconds, 0);
    assert.match(due.warning ?? '', /may be purged at the next binlog rotation/);
    assert.equal(binlogExpiry({ ...base, modifiedAfterMs: base.nowMs + 60_000 }).purgeInSeconds, 4 * DAY, 'a clock ahead counts as age 0');
  });
});

describe('PostgreSQL slot', () => {
  const slot: SlotRetention = { retainedBytes: 12_900_000, walStatus: 'reserved', safeWalBytes: null, invalidation: null };

  test('lost when dropped after streaming began, when wal_status is lost or when invalidated; a slot missing before streaming is not', () => {
    assert.equal(slotLost('s', slot, true), null);
    assert.match(slotLost('s', null, true) ?? '', /replication slot s no longer exists/);
    assert.equal(slotLost('s', null, false), null, 'an initial copy that starts over makes a new slot');
    assert.match(slotLost('s', { ...slot, walStatus: 'lost', retainedBytes: null }, false) ?? '', /wal_status = lost/);
    assert.match(slotLost('s', { ...slot, invalidation: 'rows_removed' }, true) ?? '', /invalidated \(rows_removed\)/);
  });

  test('an unreserved slot warns that it is about to be lost', () => {
    const now = new Date('2026-01-10T00:00:00Z');
    assert.deepEqual(slotRetention(slot, now), { bytes: 12_900_000, log: 'WAL', walStatus: 'reserved', warnings: [], measuredAt: now.toISOString() });
    const unreserved = slotRetention({ ...slot, walStatus: 'unreserved', safeWalBytes: 3 * 1024 ** 2 }, now);
    assert.equal(unreserved.safeWalBytes, 3 * 1024 ** 2);
    assert.match(unreserved.warnings[0] ?? '', /max_slot_wal_keep_size[\s\S]*after 3\.0 MiB more WAL/);
  });
});

describe('threshold, fix and status line', () => {
  test('the threshold warns only above warnBytes and names what frees the log', () => {
    assert.equal(thresholdWarning('shop', 1024, 'WAL', 1024), null);
    assert.equal(thresholdWarning('shop', null, 'WAL', 0), null);
    assert.match(thresholdWarning('shop', 1.5 * 1024 ** 3, 'binlog', 1024 ** 3) ?? '', /keeps 1\.50 GiB of binlog[\s\S]*\(1\.00 GiB\)[\s\S]*ducktail resume shop[\s\S]*ducktail teardown shop/);
  });

  test('the fix for a lost position names the commands in order, and what MERGE and APPEND need besides', () => {
    assert.match(positionLostHint('shop', 'merge'), /`ducktail stop shop`, `ducktail teardown shop`, `ducktail start shop`; then `ducktail verify shop --repair`/);
    const append = positionLostHint('shop', 'append');
    assert.match(append, /`ducktail start shop` \(changes made meanwhile are missing from the audit log/);
    assert.doesNotMatch(append, /verify/);
    assert.match(positionLostHint(undefined), /ducktail stop <pipeline>/);
  });

  test('status shows the amount, the threshold and the details, then each warning', () => {
    const wal: SourceRetention = { bytes: 12.3 * 1024 ** 2, log: 'WAL', walStatus: 'reserved', warnings: [], measuredAt: '' };
    assert.deepEqual(formatRetention({ retention: wal, retentionWarnBytes: 1024 ** 3 }), ['  source retains: 12.3 MiB of WAL (warn at 1.00 GiB; wal_status reserved)']);
    const binlog: SourceRetention = { bytes: 2048, log: 'binlog', oldestBinlog: 'bin.000008', binlogExpirySeconds: 7 * DAY, purgeInSeconds: 0, warnings: ['w1'], measuredAt: '' };
    assert.deepEqual(formatRetention({ retention: binlog }), [
      '  source retains: 2.0 KiB of binlog from bin.000008 (binlog expiry 7.0 d; may be purged at the next rotation)',
      '  WARNING: w1',
    ]);
    assert.deepEqual(formatRetention({ retention: { bytes: null, log: 'WAL', warnings: [], measuredAt: '' }, retentionWarnBytes: 1024 }), ['  source retains: ? (WAL retained cannot be told now) (warn at 1.0 KiB)']);
    assert.deepEqual(formatRetention({ retention: null }), [], 'nothing before the first measurement');
    assert.equal(formatDuration(45), '45 s');
    assert.equal(formatDuration(1_800), '30 min');
  });

  test('spec: retention has defaults (specs without it keep working) and is validated', () => {
    const spec = parsePipelineSpec({ name: 'p', source: { kind: 'postgres', tables: ['public.t'] }, destination: { path: 'x.duckdb' } });
    assert.deepEqual(spec.retention, DEFAULT_RETENTION);
    const { retention: _, ...older } = spec;
    assert.deepEqual(retentionSettings(older), DEFAULT_RETENTION, 'a spec from an older version');
    assert.deepEqual(retentionSettings({ ...spec, retention: { warnBytes: 10, checkSeconds: 5 } }), { warnBytes: 10, checkSeconds: 5 });
    assert.throws(
      () => parsePipelineSpec({ name: 'p', source: { kind: 'postgres', tables: ['public.t'] }, destination: { path: 'x.duckdb' }, retention: { checkSeconds: 1 } }),
      (err: unknown) => err instanceof ConfigError && /retention\.checkSeconds/.test(err.message),
    );
  });
});
