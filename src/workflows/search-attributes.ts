import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair, type TypedSearchAttributes } from '@temporalio/common';
import type { PipelinePhase } from './pipeline-state.js';

/**
 * Search attributes of a pipeline's workflow, for the Temporal UI's list and filters
 * (`DucktailPhase = "failed"`). A server has them only where they were registered (`ducktail dev`
 * registers them; see README): clients set them at start only then, and the workflow updates the
 * phase only when it was set at start, so a server without them never fails a workflow.
 */
export const PIPELINE_KEY = defineSearchAttributeKey('DucktailPipeline', SearchAttributeType.KEYWORD);
/** `postgres` or `mysql`. */
export const SOURCE_KEY = defineSearchAttributeKey('DucktailSource', SearchAttributeType.KEYWORD);
/** The pipeline's phase (`starting`, `snapshot`, `streaming`, `paused`, `failed`, ...), kept current by the workflow. */
export const PHASE_KEY = defineSearchAttributeKey('DucktailPhase', SearchAttributeType.KEYWORD);

export const PIPELINE_SEARCH_ATTRIBUTES = [PIPELINE_KEY, SOURCE_KEY, PHASE_KEY] as const;

/** The pipeline's attributes this workflow run has, to pass on to its next run (continue-as-new). */
export function carriedSearchAttributes(current: TypedSearchAttributes): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [];
  for (const key of PIPELINE_SEARCH_ATTRIBUTES) {
    const value = current.get(key);
    if (value !== undefined) pairs.push({ key, value });
  }
  return pairs;
}

/** The phase attribute's value at start, or undefined when the run has none (then it is never upserted). */
export function phaseAttribute(current: TypedSearchAttributes): PipelinePhase | undefined {
  return current.get(PHASE_KEY) as PipelinePhase | undefined;
}
