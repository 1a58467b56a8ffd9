import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceSettingError } from '../../../../src/errors.js';
import { mentionsTable } from '../../../../src/sources/mysql/mysql-ddl-waiters.js';
import { checkBinlogSettings, missingReplicationGrants, seesOtherSessions } from '../../../../src/sources/mysql/mysql-preflight.js';

const GOOD = { log_bin: 'ON', binlog_format: 'ROW', binlog_row_image: 'FULL', binlog_row_metadata: 'FULL' };

describe('binlog settings check', () => {
  test('a correctly configured server passes', () => {
    assert.deepEqual(checkBinlogSettings(GOOD), []);
    assert.deepEqual(checkBinlogSettings({ ...GOOD, binlog_transaction_compression: 'OFF', binlog_row_value_options: '' }), []);
  });

  test('each missing setting is named with its fix', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...GOOD, log_bin: 'OFF' }, /log_bin[\s\S]*my\.cnf/],
      [{ ...GOOD, binlog_format: 'MIXED' }, /binlog_format is MIXED[\s\S]*SET GLOBAL binlog_format = ROW/],
      [{ ...GOOD, binlog_row_image: 'MINIMAL' }, /binlog_row_image[\s\S]*SET GLOBAL binlog_row_image = FULL/],
      [{ ...GOOD, binlog_row_metadata: 'MINIMAL' }, /binlog_row_metadata is MINIMAL[\s\S]*SET GLOBAL binlog_row_metadata = FULL, and in my\.cnf \[mysqld\] binlog_row_metadata = FULL[\s\S]*npm run setup/],
      [{ log_bin: 'ON', binlog_format: 'ROW', binlog_row_image: 'FULL' }, /binlog_row_metadata[\s\S]*MySQL 8\.0\+ or MariaDB 10\.5\+/],
      [{ ...GOOD, binlog_transaction_compression: 'ON' }, /binlog_transaction_compression[\s\S]*= OFF/],
      [{ ...GOOD, binlog_row_value_options: 'PARTIAL_JSON' }, /PARTIAL_JSON/],
    ];
    for (const [vars, message] of cases) {
      const problems = checkBinlogSettings(vars);
      assert.equal(problems.length, 1, JSON.stringify(vars));
      assert.ok(problems[0] instanceof SourceSettingError);
      assert.equal(problems[0].nonRetryable, true);
      assert.match(problems[0].message, message);
    }
  });

  test('several problems are all reported', () => {
    assert.equal(checkBinlogSettings({ log_bin: 'ON', binlog_format: 'STATEMENT', binlog_row_image: 'NOBLOB', binlog_row_metadata: 'NO_LOG' }).length, 3);
  });
});

describe('replication grants check', () => {
  test('ALL PRIVILEGES is enough', () => {
    assert.deepEqual(missingReplicationGrants(['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION']), []);
  });

  test('MariaDB BINLOG MONITOR counts as REPLICATION CLIENT', () => {
    assert.deepEqual(missingReplicationGrants(['GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `cdc`@`%`']), []);
  });

  test('names what is missing; database-level grants do not count', () => {
    assert.deepEqual(missingReplicationGrants(['GRANT USAGE ON *.* TO `cdc`@`%`', 'GRANT ALL PRIVILEGES ON `shop`.* TO `cdc`@`%`']), [
      'REPLICATION SLAVE',
      'REPLICATION CLIENT',
    ]);
    assert.deepEqual(missingReplicationGrants(['GRANT REPLICATION CLIENT ON *.* TO `cdc`@`%`']), ['REPLICATION SLAVE']);
  });
});

describe('a snapshot giving way to schema changes', () => {
  test('PROCESS (or ALL PRIVILEGES) on *.* lets the user see the sessions waiting for it', () => {
    assert.equal(seesOtherSessions(['GRANT PROCESS, REPLICATION SLAVE ON *.* TO `cdc`@`%`']), true);
    assert.equal(seesOtherSessions(['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost`']), true);
    assert.equal(seesOtherSessions(['GRANT REPLICATION SLAVE ON *.* TO `cdc`@`%`', 'GRANT ALL PRIVILEGES ON `shop`.* TO `cdc`@`%`']), false);
  });

  test('a waiting statement names the table, quoted or not, in any case; other names do not match', () => {
    assert.equal(mentionsTable('ALTER TABLE orders ADD COLUMN n INT', 'shop.orders'), true);
    assert.equal(mentionsTable('alter table shop.ORDERS drop column n', 'shop.orders'), true);
    assert.equal(mentionsTable('RENAME TABLE `Odd Name` TO x', 'shop.Odd Name'), true);
    assert.equal(mentionsTable('ALTER TABLE `we``ird` ADD c INT', 'shop.we`ird'), true);
    assert.equal(mentionsTable('ALTER TABLE orders_2 ADD COLUMN n INT', 'shop.orders'), false);
    assert.equal(mentionsTable('ALTER TABLE `my orders` ADD n INT', 'shop.orders'), false);
  });
});
