import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { PrivilegeError } from '../../../src/errors.js';
import type { PipelineSpec, PostgresSourceSpec } from '../../../src/model/pipeline-spec.js';
import type { PostgresSource } from '../../../src/sources/postgres/postgres-source.js';
import { ensureTestDatabase, makeSpec, newSource, sql, TEST_DB, uniqueName } from './pg-test-helpers.js';

/**
 * Issue 6, item 9: a role that may read the tables (SELECT, REPLICATION, CREATE on the database)
 * but owns none of them cannot create a publication for them. Preflight must say so, naming the
 * tables, and give the SQL an owner or admin can run; Ducktail then uses that publication as is.
 */
describe('PostgreSQL preflight: publication needs table ownership (a real non-superuser role)', () => {
  let db: pg.Client;
  const role = uniqueName('dt_reader');
  const a = uniqueName('dt_own_a');
  const b = uniqueName('dt_own_b');
  const mine = uniqueName('dt_own_mine');
  const pubs: string[] = [];
  const sources: PostgresSource[] = [];

  const specFor = (name: string, tables: string[]): PipelineSpec => {
    pubs.push(name);
    const spec = makeSpec(name, tables.map((t) => `public.${t}`), { snapshot: { enabled: false, chunkRows: 100 } });
    return { ...spec, source: { ...(spec.source as PostgresSourceSpec), user: role } };
  };
  const track = (spec: PipelineSpec): PostgresSource => {
    const s = newSource(spec);
    sources.push(s);
    return s;
  };

  before(async () => {
    await ensureTestDatabase();
    db = await sql();
    await db.query(`CREATE ROLE ${role} LOGIN REPLICATION`);
    await db.query(`GRANT CREATE ON DATABASE ${TEST_DB} TO ${role}`);
    for (const t of [a, b, mine]) {
      await db.query(`CREATE TABLE public.${t} (id int PRIMARY KEY, v text)`);
      await db.query(`GRANT SELECT ON public.${t} TO ${role}`);
    }
    await db.query(`ALTER TABLE public.${mine} OWNER TO ${role}`);
  });

  after(async () => {
    await Promise.allSettled(sources.map((s) => s.close()));
    for (const p of pubs) {
      await db.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, [p]);
      await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [p]).catch(() => undefined);
      await db.query(`DROP PUBLICATION IF EXISTS ${p}`);
    }
    await db.query(`DROP TABLE IF EXISTS public.${a}, public.${b}, public.${mine}`);
    await db.query(`DROP OWNED BY ${role}`);
    await db.query(`DROP ROLE IF EXISTS ${role}`);
    await db.end();
  });

  test('not owning the tables fails preflight with the tables and the exact CREATE PUBLICATION; after an admin runs it, preflight and prepare pass', async () => {
    const spec = specFor(uniqueName('dt_pub_new'), [a, b]);
    const pub = (spec.source as PostgresSourceSpec).publication;
    let hint = '';
    await assert.rejects(track(spec).preflight(), (e: unknown) => {
      assert.ok(e instanceof PrivilegeError, String(e));
      assert.match(e.message, new RegExp(`user ${role} may read the tables but cannot create publication ${pub}`));
      assert.match(e.message, new RegExp(`does not own public\\.${a} \\(owner: postgres\\), public\\.${b} \\(owner: postgres\\)`));
      assert.doesNotMatch(e.message, /GRANT SELECT/, 'no grant the role already has is suggested');
      hint = e.hint ?? '';
      return true;
    });
    const create = /(CREATE PUBLICATION [^;]+;)/.exec(hint)?.[1];
    assert.equal(create, `CREATE PUBLICATION "${pub}" FOR TABLE "public"."${a}", "public"."${b}";`);
    assert.match(hint, /Ducktail then uses the existing publication as it is/);

    await db.query(create); // the owner (here: a superuser) creates it
    const source = track(spec);
    const report = await source.preflight();
    assert.deepEqual(report.tables.map((t) => t.table).sort(), [`public.${a}`, `public.${b}`].sort());
    await source.prepare(); // reuses the publication as is; creates the slot (REPLICATION suffices)
    const owner = await db.query<{ owner: string }>('SELECT pg_get_userbyid(pubowner) AS owner FROM pg_publication WHERE pubname = $1', [pub]);
    assert.equal(owner.rows[0]?.owner, 'postgres');
  });

  test('an existing publication that lacks a table: the role owns neither publication nor table, so it gets the ALTER PUBLICATION to hand over', async () => {
    const spec = specFor(uniqueName('dt_pub_alter'), [a, b]);
    const pub = (spec.source as PostgresSourceSpec).publication;
    await db.query(`CREATE PUBLICATION ${pub} FOR TABLE public.${a}`);
    await assert.rejects(track(spec).preflight(), (e: unknown) => {
      assert.ok(e instanceof PrivilegeError, String(e));
      assert.match(e.message, new RegExp(`cannot add public\\.${b} to publication ${pub}`));
      assert.match(e.message, new RegExp(`does not own publication ${pub} \\(owner: postgres\\); does not own public\\.${b}`));
      assert.doesNotMatch(e.message, new RegExp(`public\\.${a} \\(owner`), 'tables already published are not listed');
      assert.match(e.hint ?? '', new RegExp(`ALTER PUBLICATION "${pub}" ADD TABLE "public"\\."${b}";`));
      return true;
    });
  });

  test('a table the role owns passes, and prepare creates the publication as that role', async () => {
    const spec = specFor(uniqueName('dt_pub_mine'), [mine]);
    const source = track(spec);
    await source.preflight();
    await source.prepare();
    const pub = await db.query<{ owner: string }>('SELECT pg_get_userbyid(pubowner) AS owner FROM pg_publication WHERE pubname = $1', [(spec.source as PostgresSourceSpec).publication]);
    assert.equal(pub.rows[0]?.owner, role);
  });
});
