import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Json } from '@duckdb/node-api';
import type pg from 'pg';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { DuckLakeSession } from '../../src/destinations/ducklake/ducklake-session.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { pipelineHandle, queryStatus } from '../../src/temporal/pipeline-contract.js';
import { createTestLake, LAKE_SKIP, type TestLake } from '../helpers/ducklake.js';
import { startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { dropPgReplication, ensurePgDatabase, PG_HOST, PG_PORT, PG_USER, pgConnect } from '../helpers/postgres.js';
import { testServer } from '../helpers/temporal.js';
import { WorkerProcess } from '../helpers/worker-process.js';

const DB = 'ducktail_e2e';
const TQ = 'e2e-lake-workers';
const ROWS = 500;

/**
 * Scale-out: two `ducktail worker` processes on one task queue serve a MERGE and an APPEND
 * pipeline writing one lake; one worker is SIGKILLed mid-workload and never comes back.
 */
describe('two workers, one lake, one worker killed (real PostgreSQL, DuckLake, Temporal)', { skip: LAKE_SKIP }, () => {
  let server: DevServer;
  let pgc: pg.Client;
  let lake: TestLake;
  let reader: DuckLakeSession | undefined;
  const workers: WorkerProcess[] = [];

  before(async () => {
    await ensurePgDatabase(DB);
    pgc = await pgConnect(DB);
    await dropPgReplication(pgc, 'ducktail_e2e_lw');
    await pgc.query('DROP SCHEMA IF EXISTS e2e_lwm CASCADE; DROP SCHEMA IF EXISTS e2e_lwa CASCADE; CREATE SCHEMA e2e_lwm; CREATE SCHEMA e2e_lwa');
    await pgc.query('CREATE TABLE e2e_lwm.items (id int PRIMARY KEY, v int NOT NULL, pad text)');
    await pgc.query('CREATE TABLE e2e_lwa.events (id int PRIMARY KEY, v int NOT NULL)');
    await pgc.query(`INSERT INTO e2e_lwm.items SELECT g, 0, repeat('x', 50) FROM generate_series(1, ${ROWS}) g`);
    await pgc.query(`INSERT INTO e2e_lwa.events SELECT g, 0 FROM generate_series(1, ${ROWS}) g`);
    lake = await createTestLake(path.join(await tempDir('ducktail-lake-workers'), 'data'));
    server = await testServer();
  });

  after(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await reader?.close();
    await server?.stop();
    if (pgc !== undefined) {
      await dropPgReplication(pgc, 'ducktail_e2e_lw');
      await pgc.end();
    }
    await lake?.drop();
  });

  const query = async (sql: string): Promise<Record<string, Json>[]> => {
    reader ??= await DuckLakeSession.open({ destination: lake.destination, readOnly: true });
    return reader.exclusive((db) => db.rows(sql));
  };

  test('the survivor finishes both pipelines: MERGE equals the source, APPEND has each change once', { timeout: 120_000 }, async () => {
    const source = { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB };
    const common = { destination: lake.destination, batch: { maxRows: 300, maxWaitMs: 100, idleWaitMs: 300 }, snapshot: { chunkRows: 250 } };
    const configFile = path.join(path.dirname(lake.destination.dataPath), 'ducktail.yaml');
    await writeFile(
      configFile,
      stringify({
        temporal: { taskQueue: TQ },
        pipelines: [
          { name: 'e2e_lw_merge', source: { ...source, tables: ['e2e_lwm.items'] }, mode: 'merge', ...common },
          { name: 'e2e_lw_append', source: { ...source, tables: ['e2e_lwa.events'] }, mode: 'append', ...common },
        ],
      }),
    );
    const config = await loadConfig(configFile);
    const client = server.env.client;
    workers.push(new WorkerProcess(configFile, server.address), new WorkerProcess(configFile, server.address));
    for (const spec of config.pipelines) await startPipelineWorkflow(client, TQ, spec);
    for (const spec of config.pipelines) {
      await waitForStatus(client, spec.name, 'snapshot copied, streaming', (s) => s.phase === 'streaming' && s.checkpoint !== null, 40_000);
    }

    // Transactions touching both pipelines' tables keep coming until after the kill.
    let merged = 0;
    let appended = 0;
    let writing = true;
    const writer = (async () => {
      for (let t = 0; writing; t++) {
        await pgc.query('BEGIN');
        await pgc.query('UPDATE e2e_lwm.items SET v = v + 1 WHERE id IN (SELECT id FROM e2e_lwm.items ORDER BY random() LIMIT 20)');
        await pgc.query(`INSERT INTO e2e_lwm.items SELECT 100000 + $1 * 5 + g, 1, 'n' FROM generate_series(1, 5) g`, [t]);
        const mdel = await pgc.query('DELETE FROM e2e_lwm.items WHERE id IN (SELECT id FROM e2e_lwm.items WHERE id < 100000 ORDER BY random() LIMIT 2)');
        await pgc.query('COMMIT');
        merged += 25 + (mdel.rowCount ?? 0);
        await pgc.query('BEGIN');
        await pgc.query('UPDATE e2e_lwa.events SET v = v + 1 WHERE id IN (SELECT id FROM e2e_lwa.events ORDER BY random() LIMIT 20)');
        await pgc.query(`INSERT INTO e2e_lwa.events SELECT 100000 + $1 * 5 + g, 1 FROM generate_series(1, 5) g`, [t]);
        const adel = await pgc.query('DELETE FROM e2e_lwa.events WHERE id IN (SELECT id FROM e2e_lwa.events WHERE id < 100000 ORDER BY random() LIMIT 2)');
        await pgc.query('COMMIT');
        appended += 25 + (adel.rowCount ?? 0);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    // Let both workers serve for a while, then kill the one that next starts a load.
    await new Promise((r) => setTimeout(r, 4_000));
    const loads = /"msg":"load started"/;
    const victim = await Promise.race(workers.map((w) => w.waitForLog(loads).then(() => w)));
    const survivor = workers.find((w) => w !== victim)!;
    const servedBefore = workers.map((w) => w.count(loads));
    await victim.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 4_000));
    writing = false;
    await writer;
    assert.ok(merged > 500 && appended > 500, `changes kept coming across the kill (${merged}, ${appended})`);

    const expectedEvents = { e2e_lw_merge: ROWS + merged, e2e_lw_append: ROWS + appended };
    for (const spec of config.pipelines) {
      const want = expectedEvents[spec.name as keyof typeof expectedEvents];
      await waitForStatus(client, spec.name, `caught up (${want} events)`, (s) => s.events >= want, 40_000);
    }
    const served = survivor.count(loads) - servedBefore[workers.indexOf(survivor)]!;
    assert.ok(served > 0, 'the survivor took over the loads');
    const conflicts = survivor.count(/commit conflict/i) + victim.count(/commit conflict/i);
    const slotBusy = survivor.count(/replication slot still active/);
    console.log(`loads before kill ${servedBefore.join('/')}, survivor loads after the kill ${served}, lake commit conflicts ${conflicts}, slot-busy retries ${slotBusy}`);

    const expected = (await pgc.query<{ id: number; v: number }>('SELECT id, v FROM e2e_lwm.items ORDER BY id')).rows;
    assert.deepEqual(await query('SELECT id, v FROM e2e_lwm.items WHERE NOT __deleted ORDER BY id'), expected, 'MERGE equals the source');
    const [counts] = await query(
      `SELECT count(*) FILTER (WHERE __op <> 'snapshot')::INT AS n,
              count(DISTINCT (__position, __seq)) FILTER (WHERE __op <> 'snapshot')::INT AS distinct_events,
              count(*) FILTER (WHERE __op = 'snapshot')::INT AS snapshot
         FROM e2e_lwa.events`,
    );
    assert.deepEqual(counts, { n: appended, distinct_events: appended, snapshot: ROWS }, 'APPEND has exactly one row per change, none doubled');
    // Replaying the APPEND log gives the source's table: no change was lost or reordered.
    const log = await query('SELECT id, v, __op AS op, __position AS pos, __seq AS seq FROM e2e_lwa.events');
    const lsn = (p: Json): bigint => {
      const [hi, lo] = String(p).split('/');
      return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
    };
    log.sort((a, b) => (lsn(a.pos!) === lsn(b.pos!) ? Number(a.seq) - Number(b.seq) : lsn(a.pos!) < lsn(b.pos!) ? -1 : 1));
    const state = new Map<number, number>();
    for (const r of log) {
      if (r.op === 'delete') state.delete(Number(r.id));
      else state.set(Number(r.id), Number(r.v));
    }
    const replayed = [...state].sort((a, b) => a[0] - b[0]).map(([id, v]) => ({ id, v }));
    assert.deepEqual(replayed, (await pgc.query('SELECT id, v FROM e2e_lwa.events ORDER BY id')).rows, 'the APPEND log replays to the source');
    for (const spec of config.pipelines) assert.equal((await queryStatus(pipelineHandle(client, spec.name))).lastError, null);
    for (const spec of config.pipelines) await pipelineHandle(client, spec.name).cancel();
    for (const spec of config.pipelines) await pipelineHandle(client, spec.name).result();
  });
});
