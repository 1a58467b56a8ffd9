import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PgPosition } from '../../../src/model/position.js';
import { pgClientConfig, SESSION_OPTIONS } from '../../../src/sources/postgres/postgres-connection.js';
import { parseLsn } from '../../../src/sources/postgres/postgres-position.js';
import type { PostgresSource } from '../../../src/sources/postgres/postgres-source.js';
import { PgReplicationStream } from '../../../src/sources/postgres/postgres-stream.js';
import type { PostgresSourceSpec } from '../../../src/model/pipeline-spec.js';
import { captureUntil, logger, makeSpec, newSource, sourceSuite, uniqueName, valuesOf } from './pg-test-helpers.js';

describe('PostgreSQL replication stream', () => {
  const suite = sourceSuite();
  const sources = suite.sources;

  async function setup(): Promise<{ name: string; source: PostgresSource; spec: PostgresSourceSpec; start: PgPosition }> {
    const name = uniqueName('dt_rs');
    await suite.db.query(`CREATE TABLE ${name} (id int PRIMARY KEY, v text)`);
    const spec = makeSpec(name, [`public.${name}`], { snapshot: { enabled: false, chunkRows: 10 } });
    const source = newSource(spec);
    sources.push(source);
    const start = (await source.prepare()).position as PgPosition;
    await source.close();
    return { name, source, spec: spec.source as PostgresSourceSpec, start };
  }

  test('answers keepalives with the durable LSN, so a short wal_sender_timeout does not drop an idle stream', async () => {
    const { spec, start } = await setup();
    const client = { ...pgClientConfig(spec, undefined), options: `${SESSION_OPTIONS} -c wal_sender_timeout=1000` };
    const signal = new AbortController().signal;
    const stream = await PgReplicationStream.open({ client, slot: spec.slot, publication: spec.publication, logger }, parseLsn(start.ackLsn), signal);
    try {
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal(stream.failed, false);
      const slot = await suite.db.query<{ l: string }>('SELECT confirmed_flush_lsn::text AS l FROM pg_replication_slots WHERE slot_name = $1', [spec.slot]);
      assert.equal(slot.rows[0]?.l, start.ackLsn, 'nothing beyond the durable LSN was acknowledged');
    } finally {
      await stream.close();
    }
  });

  test('the queue is bounded by bytes (the socket is paused), and nothing is lost', async () => {
    const { name, spec, start } = await setup();
    await suite.db.query(`INSERT INTO ${name} SELECT g, repeat('x', 200) FROM generate_series(1, 3000) g`);
    const signal = new AbortController().signal;
    const stream = await PgReplicationStream.open(
      { client: pgClientConfig(spec, undefined), slot: spec.slot, publication: spec.publication, logger, maxQueueBytes: 50_000 },
      parseLsn(start.ackLsn),
      signal,
    );
    try {
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok(stream.bufferedBytes > 0 && stream.bufferedBytes < 60_000, `buffered ${stream.bufferedBytes} bytes`);
      let inserts = 0;
      for (let item = await stream.next(2000); item !== null; item = await stream.next(500)) {
        if (item.kind === 'message' && item.message.tag === 'insert') inserts++;
      }
      assert.equal(inserts, 3000);
    } finally {
      await stream.close();
    }
  });

  test('a dropped replication connection is reopened from the checkpoint on the next capture', async () => {
    const { name, spec } = await setup();
    const source = newSource(makeSpec(name, [`public.${name}`], { snapshot: { enabled: false, chunkRows: 10 } }));
    sources.push(source);
    const start = await source.prepare();
    await suite.db.query(`INSERT INTO ${name} VALUES (1, 'a')`);
    const a = await captureUntil(source, start, 1);
    await suite.db.query('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1', [spec.slot]);
    await new Promise((r) => setTimeout(r, 300));
    await suite.db.query(`INSERT INTO ${name} VALUES (2, 'b')`);
    let got: ReturnType<typeof valuesOf> = [];
    for (let i = 0; i < 5 && got.length === 0; i++) {
      try {
        got = valuesOf((await captureUntil(source, a.to, 1)).events);
      } catch (e) {
        assert.match(String(e), /SourceConnectionError|terminat/i); // the capture that saw the drop fails retryably
      }
    }
    assert.deepEqual(got, [{ op: 'insert', values: ['2', 'b'] }]);
  });
});
