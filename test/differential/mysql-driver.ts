import { WATERMARK_TABLE } from '../../src/sources/backfill.js';
import mysql, { type Connection } from 'mysql2/promise';
import type { CheckpointView } from '../../src/model/checkpoint.js';
import type { Position } from '../../src/model/position.js';
import { asMysqlPosition, compareMysqlPositions } from '../../src/sources/mysql/mysql-position.js';
import { binlogEnd, MY_HOST, MY_PORT, MY_USER, uniqueServerId } from '../helpers/mysql.js';
import { localPortsTo } from '../helpers/proc-sockets.js';
import type { AuditEntry, AuditOp, ReplicationTargets, SourceDriver, SourceTable } from './driver.js';
import { myIdent, mysqlAuditTriggers, renderMysql, type TriggerColumn } from './mysql-sql.js';
import { driftError, expectedAffected, isDdl, type Stmt, type Txn } from './statements.js';

const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

/**
 * MariaDB source of one run: database `ducktail_diff_<run>` for the tables, `…_audit` for the
 * audit log. Triggers list every column, so they are recreated after each ALTER; TRUNCATE fires
 * no trigger, so the driver logs it itself right after (nothing else writes in between).
 * Text forms read back: `CAST(… AS CHAR)` (session time zone UTC), binary as `HEX()`.
 */
export class MysqlDriver implements SourceDriver {
  readonly dialect = 'mysql' as const;
  readonly schema: string;
  readonly auditDb: string;
  private conn: Connection | null = null;
  private txnNo = 0;
  private readonly triggerIds = new Map<string, number>();
  private readonly serverIds = new Map<string, number>();

  constructor(runId: string) {
    this.schema = `ducktail_diff_${runId}`;
    this.auditDb = `${this.schema}_audit`;
  }

  get location(): string {
    return `MariaDB databases ${this.schema} and ${this.auditDb} on ${MY_HOST}:${MY_PORT} (mysql -h ${MY_HOST} -u ${MY_USER} ${this.schema})`;
  }

  async setup(): Promise<void> {
    const conn = await this.connection();
    await conn.query(`CREATE DATABASE ${myIdent(this.schema)} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await conn.query(`CREATE DATABASE ${myIdent(this.auditDb)} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await conn.query(
      `CREATE TABLE ${myIdent(this.auditDb)}.\`log\` (id BIGINT AUTO_INCREMENT PRIMARY KEY, txn BIGINT, tbl VARCHAR(255) NOT NULL,
         op VARCHAR(10) NOT NULL, row_image LONGTEXT, old_image LONGTEXT) ENGINE=InnoDB`,
    );
  }

  async run(txn: Txn): Promise<void> {
    const conn = await this.connection();
    const n = ++this.txnNo;
    await conn.query('SET @ducktail_txn = ?', [n]);
    const alone = txn.stmts.length === 1 && (isDdl(txn.stmts[0]!) || txn.stmts[0]!.kind === 'truncate');
    if (!alone && txn.stmts.some((s) => isDdl(s) || s.kind === 'truncate')) {
      throw new Error('tester bug: MariaDB DDL and TRUNCATE commit implicitly and must be alone in their transaction');
    }
    if (alone) return this.runAlone(conn, txn.stmts[0]!, n);
    await conn.query('BEGIN');
    try {
      for (const s of txn.stmts) await this.exec(conn, s);
      await conn.query(txn.rollback === true ? 'ROLLBACK' : 'COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async runAlone(conn: Connection, s: Stmt, n: number): Promise<void> {
    await this.exec(conn, s);
    if (s.kind === 'truncate') {
      await conn.query(`INSERT INTO ${myIdent(this.auditDb)}.\`log\` (txn, tbl, op) VALUES (?, ?, 'truncate')`, [n, s.table]);
    } else {
      await this.recreateTriggers(conn, s.table);
    }
  }

  private async exec(conn: Connection, s: Stmt): Promise<void> {
    const q = renderMysql(this.schema, s);
    let result: unknown;
    try {
      [result] = await conn.query(q.sql, q.values);
    } catch (err) {
      throw new Error(`source statement failed (a tester bug: generated statements must succeed): ${(err as Error).message}\n  ${q.sql.slice(0, 300)}`);
    }
    const expected = expectedAffected(s);
    const affected = (result as { affectedRows?: number }).affectedRows ?? -1;
    if (expected !== undefined && affected !== expected) throw driftError(s, affected);
  }

  private async recreateTriggers(conn: Connection, table: string): Promise<void> {
    let id = this.triggerIds.get(table);
    if (id === undefined) {
      id = this.triggerIds.size + 1;
      this.triggerIds.set(table, id);
    }
    const columns = (await this.columns(conn, table)).map((c) => ({ name: c.name, binary: BINARY_TYPES.has(c.type) }) satisfies TriggerColumn);
    for (const sql of mysqlAuditTriggers(this.schema, this.auditDb, table, id, columns)) await conn.query(sql);
  }

  private async columns(conn: Connection, table: string): Promise<{ name: string; type: string }[]> {
    const [rows] = await conn.query(
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS type FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = ? AND BINARY TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [this.schema, table],
    );
    return (rows as { name: string | Buffer; type: string | Buffer }[]).map((r) => ({ name: text(r.name)!, type: text(r.type)!.toLowerCase() }));
  }

  async auditMark(): Promise<number> {
    const [rows] = await (await this.connection()).query(`SELECT CAST(COALESCE(MAX(id), 0) AS CHAR) AS id FROM ${myIdent(this.auditDb)}.\`log\``);
    return Number(text((rows as { id: unknown }[])[0]?.id) ?? 0);
  }

  async readAudit(afterId: number): Promise<AuditEntry[]> {
    const [rows] = await (await this.connection()).query(
      `SELECT CAST(l.id AS CHAR) AS id, CAST(l.txn AS CHAR) AS txn, l.tbl, l.op, l.row_image, l.old_image
         FROM ${myIdent(this.auditDb)}.\`log\` l WHERE l.id > ? ORDER BY l.id`,
      [afterId],
    );
    return (rows as Record<string, unknown>[]).map((r) => {
      const img = text(r.row_image);
      const old = text(r.old_image);
      return {
        id: Number(text(r.id)),
        txn: text(r.txn) ?? '',
        table: text(r.tbl)!,
        op: text(r.op) as AuditOp,
        image: img === null ? null : (JSON.parse(img) as Record<string, string | null>),
        oldImage: old === null ? null : (JSON.parse(old) as Record<string, string | null>),
      };
    });
  }

  async listTables(): Promise<string[]> {
    const [rows] = await (await this.connection()).query(
      `SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1`,
      [this.schema],
    );
    // Ducktail's own re-sync watermarks (a documented table) are not the workload's.
    return (rows as { t: unknown }[]).map((r) => text(r.t)!).filter((t) => t !== WATERMARK_TABLE);
  }

  async readTable(name: string): Promise<SourceTable | null> {
    const conn = await this.connection();
    const cols = await this.columns(conn, name);
    if (cols.length === 0) return null;
    const exprs = cols.map((c) => (BINARY_TYPES.has(c.type) ? `HEX(${myIdent(c.name)})` : `CAST(${myIdent(c.name)} AS CHAR)`));
    const [rows] = await conn.query({ sql: `SELECT ${exprs.join(', ')} FROM ${myIdent(this.schema)}.${myIdent(name)}`, rowsAsArray: true });
    return { columns: cols.map((c) => c.name), rows: (rows as unknown[][]).map((r) => r.map(text)) };
  }

  pipelineSource(pipeline: string): Record<string, unknown> {
    let serverId = this.serverIds.get(pipeline);
    if (serverId === undefined) {
      serverId = uniqueServerId();
      this.serverIds.set(pipeline, serverId);
    }
    return { kind: 'mysql', host: MY_HOST, port: MY_PORT, user: MY_USER, tables: [`${this.schema}.*`], serverId };
  }

  async currentPosition(): Promise<Position> {
    const end = await binlogEnd(await this.connection());
    return { kind: 'mysql', file: end.file, pos: end.pos };
  }

  reached(checkpoint: CheckpointView | null, target: Position): boolean {
    const at = checkpoint?.position;
    if (checkpoint === null || checkpoint.snapshot !== undefined || at == null || at.kind !== 'mysql') return false;
    return compareMysqlPositions(at, asMysqlPosition(target)) >= 0;
  }

  async killReplication({ workerPid, rng }: ReplicationTargets): Promise<string> {
    if (workerPid === undefined) return 'no worker running';
    const ports = new Set(await localPortsTo(workerPid, MY_PORT));
    const conn = await this.connection();
    const [rows] = await conn.query(`SELECT ID AS id, HOST AS host FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'`);
    const mine = (rows as { id: unknown; host: unknown }[]).filter((r) => ports.has(Number(/:(\d+)$/.exec(text(r.host) ?? '')?.[1])));
    if (mine.length === 0) return 'no binlog dump of this worker found';
    const victims = rng.chance(0.5) ? mine : [rng.pick(mine)];
    for (const v of victims) await conn.query(`KILL ${Number(text(v.id))}`).catch(() => undefined);
    return `killed ${victims.length} binlog dump connection(s) of the worker`;
  }

  async cleanup(_pipelines: string[], keepData: boolean): Promise<void> {
    const conn = await this.connection().catch(() => null);
    if (conn !== null && !keepData) {
      await conn.query(`DROP DATABASE IF EXISTS ${myIdent(this.schema)}`);
      await conn.query(`DROP DATABASE IF EXISTS ${myIdent(this.auditDb)}`);
    }
    await conn?.end().catch(() => undefined);
    this.conn = null;
  }

  private async connection(): Promise<Connection> {
    if (this.conn === null) {
      const conn = await mysql.createConnection({
        host: MY_HOST,
        port: MY_PORT,
        user: MY_USER,
        charset: 'utf8mb4',
        supportBigNumbers: true,
        bigNumberStrings: true,
        dateStrings: true,
      });
      await conn.query("SET time_zone = '+00:00'");
      await conn.query('SET SESSION lock_wait_timeout = 120');
      conn.on('error', () => undefined);
      this.conn = conn;
    }
    return this.conn;
  }
}

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
