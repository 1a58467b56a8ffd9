import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { PIPELINE_SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';

export interface DevServerOptions {
  /** SQLite file that keeps workflows across restarts; omit for an in-memory server. */
  dbFile?: string;
  port?: number;
  uiPort?: number;
  namespace?: string;
  /** Register the pipeline search attributes (`DucktailPipeline`, `DucktailSource`, `DucktailPhase`). */
  searchAttributes?: boolean;
}

export interface DevServer {
  env: TestWorkflowEnvironment;
  address: string;
  uiUrl: string | null;
  stop(): Promise<void>;
}

/**
 * Finds the Temporal CLI: `temporal` on PATH, else the project's `.tools/bin/temporal`
 * (installed by `npm run setup`), else undefined (the SDK downloads one; needs internet).
 */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && existsSync(path.join(dir, 'temporal'))) return path.join(dir, 'temporal');
  }
  const local = fileURLToPath(new URL('../../.tools/bin/temporal', import.meta.url));
  return existsSync(local) ? local : undefined;
}

/** Starts an embedded Temporal dev server (with the web UI when `uiPort` is given). */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  if (options.dbFile !== undefined) await mkdir(path.dirname(options.dbFile), { recursive: true });
  const cli = findTemporalCli();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ...(cli === undefined ? {} : { executable: { type: 'existing-path', path: cli } }),
      ...(options.dbFile === undefined ? {} : { dbFilename: options.dbFile }),
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.uiPort === undefined ? {} : { ui: true, uiPort: options.uiPort }),
      ...(options.searchAttributes === true ? { searchAttributes: [...PIPELINE_SEARCH_ATTRIBUTES] } : {}),
      namespace: options.namespace ?? 'default',
      log: { format: 'pretty', level: 'error' },
      ip: '127.0.0.1',
    },
  });
  const address = env.address;
  return {
    env,
    address,
    uiUrl: options.uiPort === undefined ? null : `http://127.0.0.1:${options.uiPort}`,
    stop: () => env.teardown(),
  };
}
