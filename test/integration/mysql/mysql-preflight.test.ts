import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import {
  NoPrimaryKeyError,
  PrivilegeError,
  SourceConnectionError,
  SourceSettingError,
  TableNotFoundError,
} from '../../../src/errors.js';
import { MysqlSource } from '../../../src/sources/mysql/mysql-source.js';
import { admin, DB, makeSpec, newSource, silent, uniqueName } from './mysql-kit.js';

describe('mysql preflight', () => {
  let db: Connection;
  let keyed: string;
  let keyless: string;
  const user = uniqueName('dt_user').slice(0, 32);
  before(async () => {
    db = await admin();
    keyed = uniqueName('pf_keyed');
    keyless = uniqueName('pf_keyless');
    await db.query(`CREATE TABLE ${keyed} (id INT PRIMARY KEY, u UUID, j JSON)`);
    await db.query(`CREATE TABLE ${keyless} (v INT) ENGINE=MyISAM`);
  });
  after(async () => {
    await db.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`);
    await db.end();
  });

  async function preflightError(source: MysqlSource): Promise<Error> {
    try {
      await source.preflight();
    } catch (err) {
      return err as Error;
    } finally {
      await source.close();
    }
    assert.fail('preflight passed');
  }

  test('reports the tables with their DuckDB schema', async () => {
    const source = newSource(makeSpec([`${DB}.${keyed}`]));
    try {
      const report = await source.preflight();
      assert.deepEqual(report.tables.map((t) => [t.table, t.primaryKey, t.columns.map((c) => c.duckType)]), [
        [`${DB}.${keyed}`, ['id'], ['INTEGER', 'UUID', 'JSON']],
      ]);
      assert.deepEqual(report.warnings, []);
    } finally {
      await source.close();
    }
  });

  test('a missing table is named', async () => {
    const err = await preflightError(newSource(makeSpec([`${DB}.${keyed}`, `${DB}.no_such_table_xyz`])));
    assert.ok(err instanceof TableNotFoundError);
    assert.match(err.message, new RegExp(`${DB}\\.no_such_table_xyz does not exist[\\s\\S]*fix: create it`));
  });

  test('no primary key: an error in merge mode, a warning with keyless: append', async () => {
    const err = await preflightError(newSource(makeSpec([`${DB}.${keyless}`])));
    assert.ok(err instanceof NoPrimaryKeyError);
    assert.match(err.message, /has no primary key[\s\S]*keyless: append/);
    const source = newSource(makeSpec([`${DB}.${keyless}`], { keyless: 'append' }));
    try {
      const { warnings } = await source.preflight();
      assert.ok(warnings.some((w) => w.includes('no primary key')));
      assert.ok(warnings.some((w) => w.includes('MyISAM')));
    } finally {
      await source.close();
    }
  });

  test('binlog_row_metadata other than FULL is refused with the fix', async () => {
    const source = newSource(makeSpec([`${DB}.${keyed}`]));
    await db.query('SET GLOBAL binlog_row_metadata = MINIMAL');
    let err: Error;
    try {
      err = await preflightError(source);
    } finally {
      await db.query('SET GLOBAL binlog_row_metadata = FULL');
    }
    assert.ok(err instanceof SourceSettingError);
    assert.match(err.message, /binlog_row_metadata is MINIMAL[\s\S]*SET GLOBAL binlog_row_metadata = FULL/);
  });

  test('missing replication privileges, then a missing SELECT', async () => {
    await db.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY 'pw-secret-1'`);
    await db.query(`GRANT SELECT ON ${DB}.* TO '${user}'@'127.0.0.1'`);
    const spec = makeSpec([`${DB}.${keyed}`]);
    spec.source.user = user;
    const noRepl = await preflightError(new MysqlSource(spec, { logger: silent, password: 'pw-secret-1' }));
    assert.ok(noRepl instanceof PrivilegeError);
    assert.match(noRepl.message, /REPLICATION SLAVE[\s\S]*GRANT/);

    await db.query(`REVOKE SELECT ON ${DB}.* FROM '${user}'@'127.0.0.1'`);
    await db.query(`GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '${user}'@'127.0.0.1'`);
    await db.query(`GRANT SELECT (id) ON ${DB}.${keyed} TO '${user}'@'127.0.0.1'`);
    const noSelect = await preflightError(new MysqlSource(spec, { logger: silent, password: 'pw-secret-1' }));
    assert.ok(noSelect instanceof PrivilegeError, String(noSelect));
    assert.match(noSelect.message, new RegExp(`GRANT SELECT ON \`${DB}\`\.\`${keyed}\``));
  });

  test('bad credentials are not retryable; an unreachable server is; the password never appears', async () => {
    const spec = makeSpec([`${DB}.${keyed}`]);
    const bad = await preflightError(new MysqlSource(spec, { logger: silent, password: 'wrong-pw-zzz' }));
    assert.ok(bad instanceof SourceConnectionError);
    assert.equal(bad.nonRetryable, true);
    assert.doesNotMatch(bad.message, /wrong-pw-zzz/);

    const away = makeSpec([`${DB}.${keyed}`]);
    away.source.port = 1;
    const down = await preflightError(new MysqlSource(away, { logger: silent }));
    assert.ok(down instanceof SourceConnectionError);
    assert.equal(down.nonRetryable, false);
  });
});
