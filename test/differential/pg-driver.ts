import type pg from 'pg';
import type { CheckpointView } from '../../src/model/checkpoint.js';
import type { Position } from '../../src/model/position.js';
import { asPgPosition, boundaryPosition, coveredLsn, parseLsn } from '../../src/sources/postgres/postgres-position.js';
import { PG_HOST, PG_PORT, PG_USER, pgConnect } from '../helpers/postgres.js';
import type { AuditEntry, AuditOp, ReplicationTargets, SourceDriver, SourceTable } from './driver.js';
import { pgIdent, renderPg } from './pg-sql.js';
import { driftError, expectedAffected, type Txn } from './statements.js';

const SCHEMA = 'diff';

/** The audit log: a schema outside the publication, filled by row and TRUNCATE triggers. */
const AUDIT_DDL = [
  'CREATE SCHEMA ducktail_audit',
  `CREATE TABLE ducktail_audit.log (id bigserial PRIMARY KEY, txid bigint NOT NULL DEFAULT txid_current(),
     tbl text NOT NULL, op text NOT NULL, row_image jsonb, old_image jsonb)`,
  `CREATE FUNCTION ducktail_audit.on_row() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF TG_OP = 'INSERT' THEN
       INSERT INTO ducktail_audit.log (tbl, op, row_image) VALUES (TG_TABLE_NAME, 'insert', to_jsonb(NEW));
     ELSIF TG_OP = 'UPDATE' THEN
       INSERT INTO ducktail_audit.log (tbl, op, row_image, old_image) VALUES (TG_TABLE_NAME, 'update', to_jsonb(NEW), to_jsonb(OLD));
     ELSE
       INSERT INTO ducktail_audit.log (tbl, op, row_image) VALUES (TG_TABLE_NAME, 'delete', to_jsonb(OLD));
     END IF;
     RETURN NULL;
   END $$`,
  `CREATE FUNCTION ducktail_audit.on_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     INSERT INTO ducktail_audit.log (tbl, op) VALUES (TG_TABLE_NAME, 'truncate');
     RETURN NULL;
   END $$`,
];

export const pgSlotName = (pipeline: string): string => `ducktail_${pipeline.replace(/-/g, '_')}`;

/**
 * PostgreSQL source of one run: database `ducktail_diff_<run>`, tables in schema `diff`, audit
 * log in `ducktail_audit`. Text forms read back: `::text` in UTC, bytea as hex (`encode`), and in
 * the audit log each column's jsonb scalar as text (`jsonb_each_text`, exact for numerics).
 */
export class PgDriver implements SourceDriver {
  readonly dialect = 'pg' as const;
  readonly schema = SCHEMA;
  readonly database: string;
  private conn: pg.Client | null = null;

  constructor(runId: string) {
    this.database = `ducktail_diff_${runId}`;
  }

  get location(): string {
    return `PostgreSQL database ${this.database} on ${PG_HOST}:${PG_PORT} (psql -h ${PG_HOST} -U ${PG_USER} ${this.database})`;
  }

  async setup(): Promise<void> {
    const admin = await pgConnect();
    try {
      await admin.query(`CREATE DATABASE ${pgIdent(this.database)} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
    } finally {
      await admin.end();
    }
    const conn = await this.connection();
    await conn.query(`CREATE SCHEMA ${pgIdent(SCHEMA)}`);
    for (const ddl of AUDIT_DDL) await conn.query(ddl);
  }

  async run(txn: Txn): Promise<void> {
    const conn = await this.connection();
    await conn.query('BEGIN');
    try {
      for (const stmt of txn.stmts) {
        for (const q of renderPg(SCHEMA, stmt)) {
          let affected: number | null;
          try {
            affected = (await conn.query(q.text, q.values)).rowCount;
          } catch (err) {
            throw new Error(`source statement failed (a tester bug: generated statements must succeed): ${(err as Error).message}\n  ${q.text.slice(0, 300)}`);
          }
          const expected = expectedAffected(stmt);
          if (expected !== undefined && affected !== expected) throw driftError(stmt, affected ?? -1);
        }
      }
      await conn.query(txn.rollback === true ? 'ROLLBACK' : 'COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async auditMark(): Promise<number> {
    const res = await (await this.connection()).query<{ id: string | null }>('SELECT max(id)::text AS id FROM ducktail_audit.log');
    return Number(res.rows[0]?.id ?? 0);
  }

  async readAudit(afterId: number): Promise<AuditEntry[]> {
    const res = await (await this.connection()).query<{ id: string; txid: string; tbl: string; op: AuditOp; img: string | null; old: string | null }>(
      `SELECT id::text, txid::text, tbl, op,
              (SELECT json_object_agg(key, value) FROM jsonb_each_text(row_image))::text AS img,
              (SELECT json_object_agg(key, value) FROM jsonb_each_text(old_image))::text AS old
         FROM ducktail_audit.log l WHERE l.id > $1 ORDER BY l.id`,
      [afterId],
    );
    return res.rows.map((r) => ({
      id: Number(r.id),
      txn: r.txid,
      table: r.tbl,
      op: r.op,
      image: r.img === null ? null : (JSON.parse(r.img) as Record<string, string | null>),
      oldImage: r.old === null ? null : (JSON.parse(r.old) as Record<string, string | null>),
    }));
  }

  async listTables(): Promise<string[]> {
    const res = await (await this.connection()).query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 1`,
      [SCHEMA],
    );
    return res.rows.map((r) => r.relname);
  }

  async readTable(name: string): Promise<SourceTable | null> {
    const conn = await this.connection();
    const cols = await conn.query<{ attname: string; bytea: boolean }>(
      `SELECT a.attname, a.atttypid = 'bytea'::regtype AS bytea
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [SCHEMA, name],
    );
    if (cols.rows.length === 0) return null;
    const exprs = cols.rows.map((c) => (c.bytea ? `encode(${pgIdent(c.attname)}, 'hex')` : `${pgIdent(c.attname)}::text`));
    const rows = await conn.query<(string | null)[]>({ text: `SELECT ${exprs.join(', ')} FROM ${pgIdent(SCHEMA)}.${pgIdent(name)}`, rowMode: 'array' });
    return { columns: cols.rows.map((c) => c.attname), rows: rows.rows };
  }

  pipelineSource(pipeline: string): Record<string, unknown> {
    const slot = pgSlotName(pipeline);
    return { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: this.database, tables: [`${SCHEMA}.*`], slot, publication: slot };
  }

  async currentPosition(): Promise<Position> {
    const res = await (await this.connection()).query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    return boundaryPosition(res.rows[0]!.lsn);
  }

  reached(checkpoint: CheckpointView | null, target: Position): boolean {
    const at = checkpoint?.position;
    if (checkpoint === null || checkpoint.snapshot !== undefined || at == null || at.kind !== 'pg') return false;
    return coveredLsn(at) >= parseLsn(asPgPosition(target).lsn);
  }

  async killReplication({ slots, rng }: ReplicationTargets): Promise<string> {
    const conn = await this.connection();
    const active = await conn.query<{ slot_name: string; active_pid: number }>(
      'SELECT slot_name, active_pid FROM pg_replication_slots WHERE slot_name = ANY($1) AND active_pid IS NOT NULL',
      [slots],
    );
    if (active.rows.length === 0) return 'no walsender active';
    const victims = rng.chance(0.5) ? active.rows : [rng.pick(active.rows)];
    for (const v of victims) await conn.query('SELECT pg_terminate_backend($1)', [v.active_pid]);
    return `terminated walsender of ${victims.map((v) => v.slot_name).join(', ')}`;
  }

  async cleanup(pipelines: string[], keepData: boolean): Promise<void> {
    await this.conn?.end().catch(() => undefined);
    this.conn = null;
    const admin = await pgConnect();
    try {
      for (const slot of pipelines.map(pgSlotName)) await dropSlot(admin, slot);
      if (!keepData) {
        await admin.query(`DROP DATABASE IF EXISTS ${pgIdent(this.database)} WITH (FORCE)`);
      } else {
        const db = await pgConnect(this.database).catch(() => null);
        for (const slot of pipelines.map(pgSlotName)) await db?.query(`DROP PUBLICATION IF EXISTS ${pgIdent(slot)}`);
        await db?.end();
      }
    } finally {
      await admin.end();
    }
  }

  private async connection(): Promise<pg.Client> {
    if (this.conn === null) {
      const conn = await pgConnect(this.database);
      await conn.query("SET TimeZone = 'UTC'");
      await conn.query("SET bytea_output = 'hex'");
      conn.on('error', () => undefined);
      this.conn = conn;
    }
    return this.conn;
  }
}

/** Drops one slot, terminating its walsender first; a slot still held for a moment is retried. */
async function dropSlot(admin: pg.Client, slot: string): Promise<void> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const res = await admin.query<{ active_pid: number | null }>('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    const row = res.rows[0];
    if (row === undefined) return;
    if (row.active_pid !== null) await admin.query('SELECT pg_terminate_backend($1)', [row.active_pid]);
    try {
      await admin.query('SELECT pg_drop_replication_slot($1)', [slot]);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
