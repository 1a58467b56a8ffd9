import type { Logger } from '../logger.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import { SourceRegistry } from '../activities/source-registry.js';
import type { PreflightReport } from '../sources/source-connector.js';

/** Checks each pipeline's source before anything starts, so bad set-ups fail here, clearly. */
export async function preflightAll(pipelines: PipelineSpec[], logger: Logger): Promise<Map<string, PreflightReport>> {
  const registry = new SourceRegistry(logger);
  const reports = new Map<string, PreflightReport>();
  try {
    for (const spec of pipelines) {
      const source = await registry.get(spec);
      reports.set(spec.name, await source.preflight());
    }
  } finally {
    await registry.closeAll();
  }
  return reports;
}
