/**
 * `npm run build` runs this after tsc (`node dist/temporal/bundle-workflows.js`): the built
 * workflow code is bundled once, so a built worker loads it instead of bundling at every start.
 */
import { writePrebuiltBundle } from './workflow-bundle.js';

const file = await writePrebuiltBundle();
process.stdout.write(`workflow code bundled: ${file}\n`);
