import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { renderDetails, type PipelineWhere } from './pipeline-details.js';
import type { PipelinePhase, PipelineState } from './pipeline-state.js';
import { PHASE_KEY, phaseAttribute } from './search-attributes.js';

/**
 * Keeps what the Temporal UI shows of a pipeline current: the workflow's current details (no
 * history cost: the UI reads them with a query) and, only when this run was started with it, the
 * `DucktailPhase` search attribute, upserted on phase changes only (each upsert is a history event).
 */
export class UiReporter {
  private phase: PipelinePhase | undefined = phaseAttribute(workflowInfo().typedSearchAttributes);

  report(state: PipelineState, where: PipelineWhere): void {
    setCurrentDetails(renderDetails(state, where, Date.now()));
    if (this.phase !== undefined && this.phase !== state.phase) {
      upsertSearchAttributes([{ key: PHASE_KEY, value: state.phase }]);
      this.phase = state.phase;
    }
  }
}
