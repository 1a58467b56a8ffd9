import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';

/** True when this module runs from source (tsx), false when built into dist/. */
const fromSource = import.meta.url.endsWith('.ts');

/** The workflows entry point, as TypeScript when running from source, else the built JavaScript. */
export function workflowsPath(): string {
  return fileURLToPath(new URL(`../workflows/index${fromSource ? '.ts' : '.js'}`, import.meta.url));
}

/** Where `npm run build` writes the bundled workflow code (beside the built workflows). */
export function prebuiltBundlePath(): string {
  return fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
}

let bundle: Promise<WorkflowBundleOption> | undefined;

/**
 * The workflow code for a worker. A built worker loads the bundle `npm run build` made, so it
 * neither spends seconds nor ~100 MB of memory bundling at start; from source it is bundled once
 * per process.
 */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  bundle ??= !fromSource && prebuiltIsCurrent()
    ? Promise.resolve({ codePath: prebuiltBundlePath() })
    : bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quietLogger });
  return bundle;
}

/** True when the prebuilt bundle exists and is newer than the built code it bundles (a `tsc` alone does not refresh it). */
function prebuiltIsCurrent(): boolean {
  let bundled: number;
  try {
    bundled = statSync(prebuiltBundlePath()).mtimeMs;
  } catch {
    return false;
  }
  const built = fileURLToPath(new URL('..', import.meta.url));
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
      const p = path.join(dir, e.name);
      return Math.max(max, e.isDirectory() ? newest(p) : e.name.endsWith('.js') ? statSync(p).mtimeMs : 0);
    }, 0);
  return ['workflows', 'model'].every((d) => newest(path.join(built, d)) <= bundled);
}

/** Bundles the workflow code into `prebuiltBundlePath()` (run by `npm run build` on the built code). */
export async function writePrebuiltBundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quietLogger });
  const { writeFile } = await import('node:fs/promises');
  await writeFile(prebuiltBundlePath(), code);
  return prebuiltBundlePath();
}

const quiet = (): void => undefined;
const quietLogger = { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet, log: quiet };
