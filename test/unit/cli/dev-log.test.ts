import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { devFooter } from '../../../src/cli/dev.js';
import { createDevLogger, RecentProblems, sdkLoggerOf } from '../../../src/logger.js';

async function waitForFile(file: string, re: RegExp): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (re.test(text)) return text;
    if (Date.now() > deadline) assert.fail(`${file} never matched ${re}: ${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('with a log file, every line goes to the file as text and only problems reach the view', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ducktail-devlog-'));
  const file = path.join(dir, '.ducktail', 'dev.log');
  const recent = new RecentProblems(2);
  const log = createDevLogger({ file, recent });
  log.info({ pipeline: 'shop' }, 'capture started');
  log.warn({ pipeline: 'shop', password: 'hunter2' }, 'slow source');
  log.error({ err: new Error('boom') }, 'load failed');
  log.warn('third problem');
  const text = await waitForFile(file, /third problem/);
  assert.match(text, /INFO: capture started/);
  assert.match(text, /WARN: slow source/);
  assert.doesNotMatch(text, /hunter2/, 'secrets are redacted in the file too');
  assert.doesNotMatch(text, /^\{/m, 'readable lines, not JSON');
  // The newest two, one short line each.
  assert.equal(recent.lines.length, 2);
  assert.match(recent.lines[0]!, /^\d\d:\d\d:\d\d ERROR load failed: boom$/);
  assert.match(recent.lines[1]!, /^\d\d:\d\d:\d\d WARN third problem$/);
});

test("the Temporal SDK's lines go through the same logger, from the level asked for", () => {
  const seen: { level: string; msg: string; fields: unknown }[] = [];
  const fake = {
    error: (fields: unknown, msg: string) => seen.push({ level: 'error', msg, fields }),
    warn: (fields: unknown, msg: string) => seen.push({ level: 'warn', msg, fields }),
    info: (fields: unknown, msg: string) => seen.push({ level: 'info', msg, fields }),
    debug: (fields: unknown, msg: string) => seen.push({ level: 'debug', msg, fields }),
  };
  const sdk = sdkLoggerOf(fake as unknown as Parameters<typeof sdkLoggerOf>[0], 'INFO');
  sdk.debug('noise');
  sdk.info('Worker state changed', { state: 'RUNNING' });
  sdk.error('poll failed');
  assert.deepEqual(seen, [
    { level: 'info', msg: 'Worker state changed', fields: { sdk: true, state: 'RUNNING' } },
    { level: 'error', msg: 'poll failed', fields: { sdk: true } },
  ]);
});

test('the footer under the live view names the log file and the newest problems', () => {
  const file = path.join(process.cwd(), '.ducktail', 'dev.log');
  assert.equal(devFooter(file, []), '\nlog: .ducktail/dev.log');
  assert.equal(devFooter(file, ['12:00:00 WARN x']), '\nlog: .ducktail/dev.log — newest problems:\n  12:00:00 WARN x');
});
