import { createServer } from 'node:net';
import { Runtime, type Logger as SdkLogger } from '@temporalio/worker';

export interface RuntimeSetup {
  /** The SDK's own logger (default: the SDK's). */
  logger?: SdkLogger;
  /** Have the SDK serve its worker metrics (Prometheus text) on a free loopback port. */
  sdkMetrics: boolean;
}

/**
 * Installs this process's Temporal SDK runtime. Must run before any connection, worker or dev
 * server is created: they use the runtime installed first. The SDK can serve its metrics only on
 * an HTTP endpoint of its own, so it gets a private loopback port, and Ducktail's `/metrics`
 * appends that endpoint's scrape. Returns its URL (null without `sdkMetrics`).
 */
export async function installRuntime(setup: RuntimeSetup): Promise<string | null> {
  const port = setup.sdkMetrics ? await freeLoopbackPort() : null;
  Runtime.install({
    ...(setup.logger === undefined ? {} : { logger: setup.logger }),
    ...(port === null ? {} : { telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}` } } } }),
  });
  return port === null ? null : `http://127.0.0.1:${port}/metrics`;
}

/** A loopback port nothing listens on now (the SDK binds it a moment later). */
async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port for the Temporal SDK metrics');
  return address.port;
}
