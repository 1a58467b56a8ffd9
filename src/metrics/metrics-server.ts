import { createServer, type Server } from 'node:http';
import { prometheusContentType } from 'prom-client';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DucktailMetrics } from './metrics.js';

export interface MetricsServerOptions {
  host: string;
  port: number;
  metrics: DucktailMetrics;
  /** The Temporal SDK's own Prometheus endpoint, appended to every scrape (null: none). */
  sdkMetricsUrl: string | null;
  logger: Logger;
  /** How long a scrape waits for the SDK's endpoint (default 2 s). */
  sdkTimeoutMs?: number;
}

export interface MetricsServer {
  /** The `/metrics` URL, with `localhost` for a wildcard host. */
  url: string;
  close(): Promise<void>;
}

/** Serves `GET /metrics`: Ducktail's series, then the Temporal SDK's. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { metrics, sdkMetricsUrl, logger } = options;
  let sdkDown = false;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Ducktail serves Prometheus metrics at /metrics\n');
      return;
    }
    void scrapeAll(metrics, sdkMetricsUrl, options.sdkTimeoutMs ?? 2000).then(
      ({ text, sdkError }) => {
        // Logged when the SDK endpoint goes away and when it is back, not on every scrape.
        if ((sdkError !== null) !== sdkDown) {
          sdkDown = sdkError !== null;
          if (sdkDown) logger.warn({ err: sdkError }, 'the Temporal SDK metrics could not be read; /metrics serves Ducktail series only');
          else logger.info('the Temporal SDK metrics are back on /metrics');
        }
        res.writeHead(200, { 'content-type': prometheusContentType }).end(text);
      },
      (err: unknown) => {
        logger.error({ err }, 'metrics scrape failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
      },
    );
  });
  await listen(server, options.host, options.port);
  const shown = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shown}:${options.port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Ducktail's exposition followed by the SDK's. A failed SDK scrape leaves a comment, never an
 * error: Ducktail's own series must still reach Prometheus.
 */
export async function scrapeAll(metrics: DucktailMetrics, sdkMetricsUrl: string | null, timeoutMs: number): Promise<{ text: string; sdkError: Error | null }> {
  const own = await metrics.scrape();
  if (sdkMetricsUrl === null) return { text: own, sdkError: null };
  try {
    const res = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`${sdkMetricsUrl} answered HTTP ${res.status}`);
    const sdk = await res.text();
    return { text: joinExpositions(own, sdk), sdkError: null };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    return { text: joinExpositions(own, `# Temporal SDK metrics unavailable: ${error.message.replace(/\s+/g, ' ')}\n`), sdkError: error };
  }
}

function joinExpositions(a: string, b: string): string {
  if (b === '') return a;
  return a === '' || a.endsWith('\n') ? a + b : `${a}\n${b}`;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(
          `cannot serve metrics on ${host}:${port} (${err.code ?? err.message})`,
          err.code === 'EADDRINUSE' ? 'pass another --metrics-port, or stop what listens on that port' : 'check --metrics-host and --metrics-port',
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
}
