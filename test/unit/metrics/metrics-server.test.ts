import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { ConfigError } from '../../../src/errors.js';
import { DucktailMetrics } from '../../../src/metrics/metrics.js';
import { startMetricsServer, type MetricsServer } from '../../../src/metrics/metrics-server.js';
import { parseExposition, valueOf } from '../../helpers/metrics.js';

const SDK_TEXT = '# HELP temporal_request Count of client request successes by rpc name\n# TYPE temporal_request counter\ntemporal_request{operation="GetSystemInfo"} 2\n';

/** A stand-in for the Temporal SDK's own endpoint (the real one is in test/e2e/metrics.test.ts). */
async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('the /metrics endpoint (real HTTP on loopback)', () => {
  const metrics = new DucktailMetrics({ processMetrics: false });
  metrics.batchLoaded('shop', { 'public.orders': { insert: 3 } });
  const logger = pino({ level: 'silent' });
  let sdk: Server;
  let sdkPort: number;
  let slowPort: number;
  let slow: Server;
  let deadPort: number;
  const servers: MetricsServer[] = [];

  before(async () => {
    sdk = createServer((req, res) => res.writeHead(req.url === '/metrics' ? 200 : 404).end(SDK_TEXT));
    sdkPort = await listen(sdk);
    slow = createServer(() => undefined); // never answers
    slowPort = await listen(slow);
    const dead = createServer();
    deadPort = await listen(dead);
    await new Promise((resolve) => dead.close(resolve));
  });

  after(async () => {
    for (const s of servers) await s.close();
    slow.closeAllConnections();
    await new Promise((resolve) => slow.close(resolve));
    await new Promise((resolve) => sdk.close(resolve));
  });

  async function serve(sdkMetricsUrl: string | null): Promise<MetricsServer> {
    const probe = createServer();
    const free = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    const s = await startMetricsServer({ host: '127.0.0.1', port: free, metrics, sdkMetricsUrl, logger, sdkTimeoutMs: 300 });
    servers.push(s);
    return s;
  }

  test("serves Ducktail's series followed by the SDK's, as Prometheus text", async () => {
    const s = await serve(`http://127.0.0.1:${sdkPort}/metrics`);
    const res = await fetch(s.url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const samples = parseExposition(text);
    assert.equal(valueOf(samples, 'ducktail_changes_total', { pipeline: 'shop', op: 'insert' }), 3);
    assert.equal(valueOf(samples, 'temporal_request'), 2);
    assert.ok(text.indexOf('ducktail_changes_total') < text.indexOf('temporal_request'));
    assert.equal((await fetch(s.url.replace('/metrics', '/'))).status, 404);
  });

  for (const [what, url] of [
    ['refuses connections', () => `http://127.0.0.1:${deadPort}/metrics`],
    ['does not answer', () => `http://127.0.0.1:${slowPort}/metrics`],
    ['answers an error', () => `http://127.0.0.1:${sdkPort}/nothing`],
  ] as const) {
    test(`when the SDK endpoint ${what}, Ducktail's series are still served`, async () => {
      const s = await serve(url());
      const res = await fetch(s.url);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.equal(valueOf(parseExposition(text), 'ducktail_changes_total'), 3);
      assert.match(text, /^# Temporal SDK metrics unavailable: .+$/m);
      assert.doesNotMatch(text, /temporal_request/);
    });
  }

  test('a port in use is a ConfigError naming the port and the fix', async () => {
    await assert.rejects(
      startMetricsServer({ host: '127.0.0.1', port: sdkPort, metrics, sdkMetricsUrl: null, logger }),
      (err: unknown) => err instanceof ConfigError && /cannot serve metrics on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/.test(err.message) && /--metrics-port/.test(err.message),
    );
  });
});
