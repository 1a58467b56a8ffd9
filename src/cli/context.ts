import { Client, Connection } from '@temporalio/client';
import { loadConfig, type DucktailConfig } from '../config/load-config.js';
import { ConfigError } from '../errors.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';

export interface GlobalOptions {
  config: string;
  address?: string;
  namespace?: string;
}

export { workflowId } from '../temporal/pipeline-contract.js';

export function temporalAddress(opts: GlobalOptions, config: DucktailConfig): string {
  return opts.address ?? process.env.TEMPORAL_ADDRESS ?? config.temporal.address ?? '127.0.0.1:7233';
}

export function namespaceOf(opts: GlobalOptions, config: DucktailConfig): string {
  return opts.namespace ?? process.env.TEMPORAL_NAMESPACE ?? config.temporal.namespace;
}

export async function connectClient(opts: GlobalOptions, config: DucktailConfig): Promise<Client> {
  const address = temporalAddress(opts, config);
  try {
    const connection = await Connection.connect({ address, connectTimeout: '5s' });
    return new Client({ connection, namespace: namespaceOf(opts, config) });
  } catch (err) {
    throw new ConfigError(
      `cannot reach the Temporal server at ${address} (${(err as Error).message})`,
      'start one (temporal server start-dev), set TEMPORAL_ADDRESS, or use `ducktail dev` which embeds a dev server',
    );
  }
}

export { loadConfig };

/** The pipelines named on the command line, or all of them when none is named. */
export function selectPipelines(config: DucktailConfig, names: string[]): PipelineSpec[] {
  if (names.length === 0) return config.pipelines;
  return names.map((name) => {
    const found = config.pipelines.find((p) => p.name === name);
    if (found === undefined) {
      throw new ConfigError(
        `no pipeline named "${name}" in ${config.file}`,
        `use one of: ${config.pipelines.map((p) => p.name).join(', ')}`,
      );
    }
    return found;
  });
}
