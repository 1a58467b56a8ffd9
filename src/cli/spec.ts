import type { DucktailConfig } from '../config/load-config.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import { PIPELINE_WORKFLOW_TYPE, workflowId, type PipelineWorkflowInput } from '../temporal/pipeline-contract.js';

/** What to type into the Temporal UI's Start Workflow form to start a pipeline by hand. */
export interface StartForm {
  workflowId: string;
  taskQueue: string;
  workflowType: string;
  /** The input (json/plain): the validated spec with every default filled; no secret (passwords stay in `passwordEnv`). */
  input: PipelineWorkflowInput;
}

export function startForm(config: DucktailConfig, spec: PipelineSpec): StartForm {
  // Fields in the order people read a pipeline: what, from where, to where, how.
  const { name, source, destination, mode, keyless, batch, snapshot } = spec;
  const ordered: PipelineSpec = { name, source, destination, mode, keyless, batch, snapshot };
  return { workflowId: workflowId(spec.name), taskQueue: config.temporal.taskQueue, workflowType: PIPELINE_WORKFLOW_TYPE, input: { spec: ordered } };
}

/** The form's fields for people (stderr) and the input alone (stdout), so `ducktail spec NAME > input.json` works. */
export function formatStartForm(form: StartForm): { fields: string; input: string } {
  const fields = [
    'Temporal UI, Workflows, Start Workflow:',
    `  Workflow ID:   ${form.workflowId}`,
    `  Task Queue:    ${form.taskQueue}`,
    `  Workflow Type: ${form.workflowType}`,
    '  Input (Data, encoding json/plain):',
  ].join('\n');
  return { fields, input: JSON.stringify(form.input, null, 2) };
}
