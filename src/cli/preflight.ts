import { createConnectors } from '../composition.js';
import type { Logger } from '../logger.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import type { PreflightReport } from '../sources/source-connector.js';

/**
 * Checks each pipeline's destination and source before anything starts, so bad set-ups fail
 * here, clearly, and change nothing (no DuckDB file, slot or publication is created).
 */
export async function preflightAll(pipelines: PipelineSpec[], logger: Logger): Promise<Map<string, PreflightReport>> {
  const connectors = createConnectors({ logger });
  const reports = new Map<string, PreflightReport>();
  try {
    for (const spec of pipelines) await connectors.checkDestination(spec);
    for (const spec of pipelines) {
      const source = await connectors.source(spec);
      reports.set(spec.name, await source.preflight());
    }
  } finally {
    await connectors.close();
  }
  return reports;
}
