import type { Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import { PHASE_KEY, PIPELINE_KEY, PIPELINE_SEARCH_ATTRIBUTES, SOURCE_KEY } from '../workflows/search-attributes.js';

export { PIPELINE_SEARCH_ATTRIBUTES };

const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD

/**
 * The names of the pipeline search attributes the server has registered as Keyword in the
 * client's namespace; empty when it has none or cannot say (e.g. no operator access).
 */
export async function registeredPipelineAttributes(client: Client): Promise<Set<string>> {
  try {
    const res = await client.connection.operatorService.listSearchAttributes({ namespace: client.options.namespace });
    const custom = res.customAttributes ?? {};
    return new Set(PIPELINE_SEARCH_ATTRIBUTES.map((k) => k.name).filter((name) => Number(custom[name]) === KEYWORD));
  } catch {
    return new Set();
  }
}

/**
 * The search attributes to start a pipeline's workflow with: those of `DucktailPipeline`,
 * `DucktailSource` and `DucktailPhase` the server has registered (none where it has none, so a
 * start never fails for them).
 */
export async function pipelineSearchAttributes(client: Client, spec: PipelineSpec): Promise<SearchAttributePair[]> {
  const registered = await registeredPipelineAttributes(client);
  const pairs: SearchAttributePair[] = [
    { key: PIPELINE_KEY, value: spec.name },
    { key: SOURCE_KEY, value: spec.source.kind },
    { key: PHASE_KEY, value: 'starting' },
  ];
  return pairs.filter((p) => registered.has(p.key.name));
}

