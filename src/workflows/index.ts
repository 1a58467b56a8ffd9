export { pipelineWorkflow } from './pipeline-workflow.js';
export { lakeUpkeepWorkflow } from './upkeep-workflow.js';
