import type { Scenario } from '../context.js';
import { runSnapshot } from '../drivers.js';
import { mysqlSelectFloor } from '../floors.js';
import { createItems, fillItems, MY_CONNECTION, MY_DB, mysqlBenchConnect, mysqlSource } from '../mysql-workload.js';
import { makeResult } from '../result.js';

export const mysqlSnapshot: Scenario = {
  name: 'mysql-snapshot',
  summary: 'the initial snapshot of a MariaDB table (MERGE) until streaming begins; floor: mysql2 streaming every row of a SELECT as text',
  async run(ctx) {
    const { rows } = ctx.sizes;
    const table = 'snapshot_merge';
    const conn = await mysqlBenchConnect();
    try {
      const run = await runSnapshot({
        ctx,
        config: { name: 'bench_mysql_snapshot', source: mysqlSource([table]), mode: 'merge' },
        rows,
        fill: async () => {
          await createItems(conn, table);
          await fillItems(conn, table, rows);
        },
        floor: () => mysqlSelectFloor(MY_CONNECTION, `${MY_DB}.${table}`),
      });
      return [makeResult('mysql-snapshot', 'merge', rows, run, 'SELECT * streamed (mysql2)', run.floor)];
    } finally {
      await conn.query(`DROP TABLE IF EXISTS ${MY_DB}.${table}`);
      await conn.end();
    }
  },
};
