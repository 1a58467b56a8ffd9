import type { Connection } from 'mysql2/promise';
import { MY_HOST, MY_PORT, MY_USER, myConnect, resetMyDatabase, RUN_ID, uniqueServerId } from '../helpers/mysql.js';
import { describeVerifyE2E } from '../helpers/verify-e2e.js';

const DB = `ducktail_verify_my_${RUN_ID}`;
const PREFIX = `verify_my_${RUN_ID}`;

let my: Connection;

const TYPES = `id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED, d DECIMAL(38,10), f FLOAT,
  dbl DOUBLE, vc VARCHAR(100), c CHAR(5), tx TEXT, lat VARCHAR(20) CHARACTER SET latin1, bl BLOB, vb VARBINARY(16), dt DATE,
  dt6 DATETIME(6), tz TIMESTAMP(6) NULL, tm TIME(6), yr YEAR, b BIT(10), e ENUM('x','y','z'), s SET('a','b','c'), j JSON, u UUID,
  i6 INET6, g POINT`;
const COLUMNS = 'ti, tu, bi, bu, d, f, dbl, vc, c, tx, lat, bl, vb, dt, dt6, tz, tm, yr, b, e, s, j, u, i6, g';
const ROW_1 = `1, -128, 255, -9223372036854775808, 18446744073709551615, '-9999999999999999999999999999.9999999999', 1.1,
  3.141592653589793, 'héllo ✓ 😀 ''q'' \\\\ end', 'ab', REPEAT('ü✓', 1000), 'café', x'00ff', x'0102', '1969-12-31',
  '2024-02-29 23:59:59.999999', '2038-01-19 03:14:07.999999', '-838:59:59.000000', 2155, b'1010000001', 'z', 'a,c',
  '{"a": 1,  "b": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '::ffff:10.0.0.1', POINT(1, 2)`;
const ROW_4 = `4, 0, 0, 0, 0, 0, 1e20, 1e-300, '', '', '', '', x'', x'', '1000-01-01', '1970-01-01 00:00:00',
  '1970-01-01 00:00:01.000001', '-00:00:00.000001', 0, b'0', 'x', '', '[]', '00000000-0000-0000-0000-000000000000', '::', POINT(0, 0)`;

describeVerifyE2E({
  label: 'MariaDB',
  schema: DB,
  source: { kind: 'mysql', host: MY_HOST, port: MY_PORT, user: MY_USER },
  names: { merge: PREFIX, keyless: `${PREFIX}_keyless`, append: `${PREFIX}_append` },
  sourceExtra: () => ({ serverId: uniqueServerId() }),
  async setup() {
    my = await myConnect(DB);
    await resetMyDatabase(my, DB);
    await my.query(`USE ${DB}`);
    await my.query(`CREATE TABLE items (id INT PRIMARY KEY, v INT NOT NULL, t VARCHAR(50));
      INSERT INTO items SELECT seq, seq * 2, CONCAT('row ', seq) FROM seq_1_to_400;
      CREATE TABLE comp (region VARCHAR(10), id INT, v DECIMAL(12,2), PRIMARY KEY (region, id)) COLLATE utf8mb4_general_ci;
      INSERT INTO comp SELECT r.r, s.seq, s.seq / 7 FROM (SELECT 'eu' AS r UNION ALL SELECT 'us' UNION ALL SELECT 'B' UNION ALL SELECT 'a' UNION ALL SELECT 'é') r, seq_1_to_60 s;
      CREATE TABLE types (${TYPES}) DEFAULT CHARSET = utf8mb4;
      INSERT INTO types VALUES (${ROW_1});
      INSERT INTO types (id) VALUES (2);
      CREATE TABLE nokey (a INT, b TEXT);
      INSERT INTO nokey VALUES (1, 'x'), (2, 'y');`);
  },
  async streamTypes() {
    await my.query(`INSERT INTO types SELECT 3, ${COLUMNS} FROM types WHERE id = 1`);
    await my.query(`INSERT INTO types VALUES (${ROW_4})`);
  },
  async churn(step) {
    await my.query(`START TRANSACTION;
      UPDATE items SET v = v + 1 WHERE id <> 17 ORDER BY RAND() LIMIT 5;
      INSERT INTO items VALUES (1000 + ${step}, ${step}, 'new');
      DELETE FROM items WHERE id = ${200 + (step % 150)};
      UPDATE comp SET v = v + 1 WHERE region = 'us' AND id = ${(step % 60) + 1};
      INSERT INTO comp VALUES ('zz', ${step}, ${step});
      COMMIT`);
  },
  async count(name) {
    const [rows] = await my.query(`SELECT COUNT(*) AS n FROM ${name}`);
    return Number((rows as { n: number }[])[0]?.n);
  },
  notCompared: [/\.types\.g \(point\): geometry values are not compared/],
  async cleanup() {
    if (my === undefined) return;
    await my.query(`DROP DATABASE IF EXISTS ${DB}`);
    await my.end();
  },
});
