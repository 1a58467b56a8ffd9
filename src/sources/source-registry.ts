import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import { createSource } from './create-source.js';
import type { SourceConnector } from './source-connector.js';

/**
 * The worker's open sources, one per pipeline, so a replication stream opened by one capture
 * serves the next without reconnecting. A changed spec replaces the connector.
 */
export class SourceRegistry {
  private readonly entries = new Map<string, { key: string; source: SourceConnector }>();

  constructor(
    private readonly logger: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async get(spec: PipelineSpec): Promise<SourceConnector> {
    const key = JSON.stringify(spec.source) + spec.mode + spec.keyless + JSON.stringify(spec.snapshot);
    const existing = this.entries.get(spec.name);
    if (existing !== undefined && existing.key === key) return existing.source;
    if (existing !== undefined) await existing.source.close();
    const source = createSource(spec, { password: this.password(spec), logger: this.logger });
    this.entries.set(spec.name, { key, source });
    return source;
  }

  /** Closes and forgets a pipeline's source (e.g. after teardown). */
  async release(pipeline: string): Promise<void> {
    const entry = this.entries.get(pipeline);
    this.entries.delete(pipeline);
    await entry?.source.close();
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.allSettled(all.map((e) => e.source.close()));
  }

  private password(spec: PipelineSpec): string | undefined {
    const name = spec.source.passwordEnv;
    if (name === undefined) return undefined;
    const value = this.env[name];
    if (value === undefined) {
      throw new ConfigError(
        `pipeline ${spec.name}: source.passwordEnv names ${name}, but the worker's environment has no ${name}`,
        `export ${name}=... in the environment of the process running the worker (ducktail worker / ducktail dev)`,
      );
    }
    return value;
  }
}
