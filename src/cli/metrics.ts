import type { Logger as SdkLogger } from '@temporalio/worker';
import type { Logger } from '../logger.js';
import { DucktailMetrics } from '../metrics/metrics.js';
import { startMetricsServer } from '../metrics/metrics-server.js';
import { installRuntime } from '../temporal/runtime.js';

export interface MetricsSetup {
  /** Serve `/metrics` on this port; undefined: no metrics. */
  port?: number;
  host: string;
  logger: Logger;
  /** The Temporal SDK's logger (default: the SDK's). */
  sdkLogger?: SdkLogger;
}

export interface MetricsEndpoint {
  metrics: DucktailMetrics;
  url: string;
  close(): Promise<void>;
}

/**
 * Installs the Temporal runtime, with the SDK's worker metrics on when `port` is given, then
 * serves `/metrics` there. Call before any Temporal connection, worker or dev server exists.
 */
export async function setUpMetrics(setup: MetricsSetup): Promise<MetricsEndpoint | null> {
  const sdkMetricsUrl = await installRuntime({ sdkMetrics: setup.port !== undefined, ...(setup.sdkLogger === undefined ? {} : { logger: setup.sdkLogger }) });
  if (setup.port === undefined) return null;
  const metrics = new DucktailMetrics();
  const server = await startMetricsServer({ host: setup.host, port: setup.port, metrics, sdkMetricsUrl, logger: setup.logger });
  return { metrics, url: server.url, close: () => server.close() };
}
