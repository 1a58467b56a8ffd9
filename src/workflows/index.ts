export { pipelineWorkflow } from './pipeline-workflow.js';
