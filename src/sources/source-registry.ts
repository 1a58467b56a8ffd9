import type { PipelineSpec } from '../model/pipeline-spec.js';
import type { SourceConnector } from './source-connector.js';

/**
 * Open sources, one per pipeline, so a replication stream opened by one capture serves the next
 * without reconnecting. A changed spec replaces the connector.
 */
export class SourceRegistry {
  private readonly entries = new Map<string, { key: string; source: SourceConnector }>();

  /** `create` builds a pipeline's connector; it is called again only when the spec changed. */
  constructor(private readonly create: (spec: PipelineSpec) => SourceConnector) {}

  async get(spec: PipelineSpec): Promise<SourceConnector> {
    const key = JSON.stringify(spec.source) + spec.mode + spec.keyless + JSON.stringify(spec.snapshot);
    const existing = this.entries.get(spec.name);
    if (existing !== undefined && existing.key === key) return existing.source;
    if (existing !== undefined) await existing.source.close();
    const source = this.create(spec);
    this.entries.set(spec.name, { key, source });
    return source;
  }

  /** The pipeline's open connector, if any (creates none). */
  peek(pipeline: string): SourceConnector | undefined {
    return this.entries.get(pipeline)?.source;
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
}
