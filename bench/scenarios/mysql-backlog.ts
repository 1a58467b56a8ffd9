import { binlogEnd } from '../../test/helpers/mysql.js';
import type { BenchContext, Scenario } from '../context.js';
import { drainBacklog } from '../drivers.js';
import { zongjiFloor } from '../floors.js';
import { createItems, FLOOR_SERVER_ID, MY_CONNECTION, MY_DB, mysqlBenchConnect, mysqlSource, writeBacklog } from '../mysql-workload.js';
import { makeResult, type BenchResult } from '../result.js';

export const mysqlBacklog: Scenario = {
  name: 'mysql-backlog',
  summary: 'the same backlog on MariaDB (binlog ROW, FULL images) drained by a fresh worker, MERGE and APPEND; floor: a bare zongji read of the same binlog range',
  async run(ctx) {
    return [await drainMysqlBacklog(ctx, 'merge'), await drainMysqlBacklog(ctx, 'append')];
  },
};

async function drainMysqlBacklog(ctx: BenchContext, mode: 'merge' | 'append'): Promise<BenchResult> {
  const { changes } = ctx.sizes;
  const table = `backlog_${mode}`;
  const conn = await mysqlBenchConnect();
  try {
    await createItems(conn, table);
    await binlogEnd(conn); // fails early, with the fix, when the binary log is off
    const run = await drainBacklog({
      ctx,
      config: { name: `bench_mysql_backlog_${mode}`, source: mysqlSource([table]), mode },
      changes,
      async write() {
        const range = await writeBacklog(conn, table, changes);
        return () => zongjiFloor({ ...MY_CONNECTION, database: MY_DB }, FLOOR_SERVER_ID, MY_DB, table, range.from, range.to);
      },
    });
    return makeResult('mysql-backlog', mode, changes, run, 'zongji binlog read', run.floor);
  } finally {
    await conn.query(`DROP TABLE IF EXISTS ${MY_DB}.${table}`);
    await conn.end();
  }
}
