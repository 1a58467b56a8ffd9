import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ducklakeColumnDdl } from '../../../src/destinations/ducklake/ducklake-ddl.js';
import { lakeError, redactPassword } from '../../../src/destinations/ducklake/ducklake-errors.js';
import { attachSql } from '../../../src/destinations/ducklake/ducklake-session.js';
import { LakeCommitConflictError } from '../../../src/errors.js';
import type { ColumnSchema } from '../../../src/model/table-schema.js';

const REF = '"lake"."s"."t"';
const col = (duckType: string, encoding: ColumnSchema['encoding'], backfill?: string): ColumnSchema => ({
  name: 'c', sourceType: duckType.toLowerCase(), duckType, encoding, ...(backfill === undefined ? {} : { backfill }),
});

describe('DuckLake column DDL', () => {
  test('a widening DuckLake promotes is altered in place; anything to VARCHAR rewrites the column', () => {
    assert.deepEqual(ducklakeColumnDdl.retype(REF, 'c', 'INTEGER', 'BIGINT'), [`ALTER TABLE ${REF} ALTER COLUMN "c" TYPE BIGINT`]);
    assert.deepEqual(ducklakeColumnDdl.retype(REF, 'c', 'DATE', 'VARCHAR'), [
      `ALTER TABLE ${REF} ADD COLUMN "__ducktail_retype" VARCHAR`,
      `UPDATE ${REF} SET "__ducktail_retype" = CAST("c" AS VARCHAR)`,
      `ALTER TABLE ${REF} DROP COLUMN "c"`,
      `ALTER TABLE ${REF} RENAME COLUMN "__ducktail_retype" TO "c"`,
    ]);
  });

  test('a backfill is a literal default where DuckLake takes one, else an UPDATE', () => {
    const add = (type: string, encoding: ColumnSchema['encoding'], backfill?: string): string[] =>
      ducklakeColumnDdl.addColumn({ ref: REF, duck: 'c', type, column: col(type, encoding, backfill) });
    assert.deepEqual(add('INTEGER', 'text'), [`ALTER TABLE ${REF} ADD COLUMN "c" INTEGER`]);
    assert.deepEqual(add('INTEGER', 'text', "7'"), [`ALTER TABLE ${REF} ADD COLUMN "c" INTEGER DEFAULT '7'''`, `ALTER TABLE ${REF} ALTER COLUMN "c" DROP DEFAULT`]);
    assert.equal(add('BLOB', 'hex', '00ff')[0], `ALTER TABLE ${REF} ADD COLUMN "c" BLOB DEFAULT '\\x00\\xFF'`);
    assert.deepEqual(add('VARCHAR[]', 'json', '["a"]'), [
      `ALTER TABLE ${REF} ADD COLUMN "c" VARCHAR[]`,
      `UPDATE ${REF} SET "c" = CAST(CAST('["a"]' AS JSON) AS VARCHAR[])`,
    ]);
  });
});

describe('DuckLake attach and errors', () => {
  const destination = { kind: 'ducklake' as const, catalog: 'postgres:dbname=lake host=h', dataPath: "/data/it's" };

  test('the password joins the libpq string quoted; writers turn data inlining off, readers attach read-only', () => {
    assert.equal(
      attachSql({ destination, password: "p'w\\d" }),
      `ATTACH 'ducklake:postgres:dbname=lake host=h password=''p\\''w\\\\d''' AS "lake" (DATA_PATH '/data/it''s', DATA_INLINING_ROW_LIMIT 0)`,
    );
    assert.equal(attachSql({ destination, readOnly: true }), `ATTACH 'ducklake:postgres:dbname=lake host=h' AS "lake" (DATA_PATH '/data/it''s', READ_ONLY)`);
  });

  test('a password DuckDB echoes is hidden; a commit conflict is retryable', () => {
    assert.equal(redactPassword("connect to 'dbname=x password=''a b'' host=h' failed"), "connect to 'dbname=x password=*** host=h' failed");
    assert.equal(redactPassword('dbname=x password=secret host=h'), 'dbname=x password=*** host=h');
    const conflict = lakeError(new Error('TransactionContext Error: Failed to commit: Failed to commit DuckLake transaction.\nTransaction conflict - attempting to insert into table with index "3" - but another transaction has altered it'));
    assert.ok(conflict instanceof LakeCommitConflictError);
    assert.equal(conflict.nonRetryable, false);
    assert.match(conflict.message, /another transaction has altered it/);
    assert.doesNotMatch(lakeError(new Error('IO Error: password=secret')).message, /secret/);
    const echoed = attachSql({ destination, password: "p'w\\d" });
    assert.match(echoed, /p\\''w/);
    const hidden = lakeError(new Error(`Binder Error in ${echoed}`), "p'w\\d").message;
    assert.match(hidden, /host=h password=\*\*\*' AS "lake"/);
    assert.doesNotMatch(hidden, /p\\*'+w/);
    assert.equal(lakeError(new Error('failed: x p5 y'), 'p5').message, 'failed: x *** y');
  });
});
