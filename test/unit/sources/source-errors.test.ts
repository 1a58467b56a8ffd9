import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PositionLostError, PrivilegeError, SourceConnectionError } from '../../../src/errors.js';
import { toDucktailError as fromMysql } from '../../../src/sources/mysql/mysql-errors.js';
import { toDucktailError as fromPostgres } from '../../../src/sources/postgres/postgres-errors.js';
import type { ErrorContext, ErrorMapper } from '../../../src/sources/source-errors.js';

const where: ErrorContext = { doing: 'capturing', endpoint: 'db:1', user: 'cdc' };

/** The same situations, as each driver reports them. */
const cases: { name: string; mapper: ErrorMapper; login: object; network: object; privilege: object; lost: object }[] = [
  {
    name: 'PostgreSQL',
    mapper: fromPostgres,
    login: { code: '28P01', message: 'password authentication failed' },
    network: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    privilege: { code: '42501', message: 'permission denied' },
    lost: { message: 'requested WAL segment 0001 has already been removed' },
  },
  {
    name: 'MySQL',
    mapper: fromMysql,
    login: { errno: 1045, message: 'Access denied' },
    network: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    privilege: { errno: 1227, message: 'Access denied; you need REPLICATION SLAVE' },
    lost: { errno: 1236, message: 'Could not find first log file name in binary log index file' },
  },
];

describe('error mappers (one signature for every source)', () => {
  for (const c of cases) {
    test(`${c.name}: login refused is not retryable, unreachable is, privileges and lost positions name their fix`, () => {
      const login = c.mapper(c.login, where);
      assert.ok(login instanceof SourceConnectionError && login.nonRetryable, login.message);
      const network = c.mapper(c.network, where);
      assert.ok(network instanceof SourceConnectionError && !network.nonRetryable, network.message);
      assert.ok(c.mapper(c.privilege, where) instanceof PrivilegeError);
      const lost = c.mapper(c.lost, where);
      assert.ok(lost instanceof PositionLostError && /fix: .*teardown/.test(lost.message), lost.message);
    });
    test(`${c.name}: an error with no better class is returned as it is`, () => {
      const bug = new TypeError('x is undefined');
      assert.equal(c.mapper(bug, where), bug);
      assert.equal(c.mapper(c.login, {}).constructor, SourceConnectionError, 'works without a context');
    });
  }
});

test('PostgreSQL: a replication slot held by another connection (55006) is retried as long as it lasts', () => {
  const held = Object.assign(new Error('replication slot "s" is active for PID 42'), { code: '55006' });
  const err = fromPostgres(held, where);
  assert.ok(err instanceof SourceConnectionError && !err.nonRetryable && /wal_sender_timeout/.test(err.message), err.message);
});
