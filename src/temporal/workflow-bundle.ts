import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
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
 * per version of the source and kept in `node_modules/.cache/ducktail` (worker restarts during
 * development and tests then start in a fraction of a second).
 */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  bundle ??= !fromSource && prebuiltIsCurrent()
    ? Promise.resolve({ codePath: prebuiltBundlePath() })
    : fromSource
      ? cachedSourceBundle()
      : bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quietLogger });
  return bundle;
}

/** Bundles the source's workflows once per digest of every source file (a change anywhere makes a new bundle). */
async function cachedSourceBundle(): Promise<WorkflowBundleOption> {
  const src = fileURLToPath(new URL('..', import.meta.url));
  const root = path.dirname(src);
  const digest = createHash('sha256');
  const add = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) add(p);
      else if (e.name.endsWith('.ts')) digest.update(p).update(readFileSync(p));
    }
  };
  add(src);
  for (const pkg of ['@temporalio/workflow', '@temporalio/worker']) {
    try {
      digest.update(readFileSync(path.join(root, 'node_modules', pkg, 'package.json')));
    } catch {
      digest.update(pkg);
    }
  }
  const file = path.join(root, 'node_modules', '.cache', 'ducktail', `workflow-bundle-${digest.digest('hex').slice(0, 16)}.js`);
  try {
    statSync(file);
    return { codePath: file };
  } catch {
    // not bundled yet for this source
  }
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quietLogger });
  try {
    await mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    await writeFile(partial, code);
    await rename(partial, file);
  } catch {
    // a read-only tree: run on the in-memory bundle
  }
  return { code };
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
  await writeFile(prebuiltBundlePath(), code);
  return prebuiltBundlePath();
}

const quiet = (): void => undefined;
const quietLogger = { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet, log: quiet };
