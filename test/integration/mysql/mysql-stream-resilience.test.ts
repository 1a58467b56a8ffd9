import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import { connectionOptions, errorContext, readBinlogEnd } from '../../../src/sources/mysql/mysql-connection.js';
import type { RowItem, StreamItem } from '../../../src/sources/mysql/mysql-decoder.js';
import { BinlogStream } from '../../../src/sources/mysql/mysql-stream.js';
import { TableSelection } from '../../../src/sources/table-selection.js';
import { pino, type Logger } from 'pino';
import { PositionLostError } from '../../../src/errors.js';
import { admin, captureOnce, DB, LIMITS, makeSpec, newSource, uniqueName } from './mysql-kit.js';

/** Reads items until `want` row items arrived (or a time limit), slowly enough for the queue to fill. */
async function readRows(stream: BinlogStream, want: number, pauseEvery = 0): Promise<RowItem[]> {
  const rows: RowItem[] = [];
  const signal = new AbortController().signal;
  const deadline = Date.now() + 20_000;
  while (rows.length < want && Date.now() < deadline) {
    const item: StreamItem | null = await stream.next(200, signal);
    if (item?.kind === 'row') rows.push(item);
    if (pauseEvery > 0 && rows.length % pauseEvery === 0) await new Promise((r) => setTimeout(r, 20));
  }
  return rows;
}

/** Counts reader (re)starts through the stream's debug log. */
function startCounter(): { logger: Logger; starts: () => number } {
  let n = 0;
  const logger = pino({ level: 'debug' }, { write: (line: string) => void (line.includes('binlog reader started') && n++) });
  return { logger, starts: () => n };
}

function openStream(table: string, start: { file: string; pos: number }, maxQueueBytes: number, logger: Logger): BinlogStream {
  const spec = makeSpec([table]);
  if (spec.source.kind !== 'mysql') throw new Error('unreachable');
  const sel = new TableSelection(spec.source.tables);
  return new BinlogStream(
    {
      connection: connectionOptions(spec.source, undefined),
      serverId: spec.source.serverId,
      selection: sel,
      maxQueueBytes,
      errorContext: errorContext(spec.source),
      logger,
    },
    { ...start, seq: 0 },
  );
}

describe('mysql binlog stream resilience', () => {
  let db: Connection;
  before(async () => {
    db = await admin();
  });
  after(async () => {
    await db.end();
  });

  test('a full queue stops the reader and restarts it without loss or repeats, even inside a transaction', async () => {
    const t = uniqueName('bp');
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, pad VARCHAR(200))`);
    const start = await readBinlogEnd(db);
    const pad = 'p'.repeat(200);
    await db.query(`INSERT INTO ${t} VALUES ${Array.from({ length: 150 }, (_, i) => `(${i + 1}, '${pad}')`).join(',')}`);
    for (let i = 151; i <= 200; i++) await db.query(`INSERT INTO ${t} VALUES (${i}, 'small')`);
    const counter = startCounter();
    const stream = openStream(`${DB}.${t}`, start, 4_000, counter.logger); // ~8 rows of the big transaction
    try {
      const rows = await readRows(stream, 200, 5);
      assert.deepEqual(rows.map((r) => r.row.id), Array.from({ length: 200 }, (_, i) => i + 1));
      assert.deepEqual(rows.slice(0, 150).map((r) => r.seq), Array.from({ length: 150 }, (_, i) => i));
      assert.ok(rows.slice(0, 150).every((r) => r.txnPos === rows[0]!.txnPos));
      assert.ok(counter.starts() > 5, `the reader restarted ${counter.starts() - 1} times`);
    } finally {
      await stream.close();
    }
  });

  test('a killed binlog connection reconnects from the last item handed out', async () => {
    const t = uniqueName('kill');
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY)`);
    const start = await readBinlogEnd(db);
    await db.query(`INSERT INTO ${t} VALUES (1), (2)`);
    await db.query(`INSERT INTO ${t} VALUES (3)`);
    const counter = startCounter();
    const stream = openStream(`${DB}.${t}`, start, 1 << 20, counter.logger);
    try {
      const first = await readRows(stream, 2);
      const threadId = (stream as unknown as { zongji: { connection: { threadId: number } } }).zongji.connection.threadId;
      await db.query(`KILL ${threadId}`);
      await db.query(`INSERT INTO ${t} VALUES (4)`);
      const rest = await readRows(stream, 2);
      assert.deepEqual([...first, ...rest].map((r) => r.row.id), [1, 2, 3, 4]);
      assert.equal(stream.failed, false);
      assert.equal(counter.starts(), 2);
    } finally {
      await stream.close();
    }
  });

  test('a purged or unknown binlog position fails as PositionLostError', async () => {
    const t = uniqueName('lost');
    await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY)`);
    const source = newSource(makeSpec([`${DB}.${t}`]));
    try {
      const from = { position: { kind: 'mysql' as const, file: 'mysql-bin.999999', pos: 4 }, batchId: '' };
      await assert.rejects(captureOnce(source, from, { ...LIMITS, idleWaitMs: 5000 }), (err: Error) => {
        assert.ok(err instanceof PositionLostError, String(err));
        assert.match(err.message, /mysql-bin\.999999:4[\s\S]*fix: .*`ducktail teardown pipe_[^`]*`, `ducktail start/);
        return true;
      });
    } finally {
      await source.close();
    }
  });
});

