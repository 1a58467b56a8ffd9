import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection } from '@temporalio/worker';
import { pino } from 'pino';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { createPipelineWorker, type PipelineWorker } from '../../src/worker.js';

export const TASK_QUEUE_PREFIX = 'ducktail-test';

/**
 * A real Temporal dev server for one test file (in memory, random port); with the pipeline
 * search attributes registered and the web UI on `uiPort` when asked.
 */
export function testServer(options: { searchAttributes?: boolean; uiPort?: number } = {}): Promise<DevServer> {
  return startDevServer(options);
}

export interface RunningWorker {
  worker: PipelineWorker;
  stop(): Promise<void>;
}

/** A pipeline worker in this process (shares the DuckDB instance cache with the test). */
export async function inProcessWorker(server: DevServer, taskQueue: string): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: server.address });
  const worker = await createPipelineWorker({
    connection,
    namespace: 'default',
    taskQueue,
    logger: pino({ level: process.env.DUCKTAIL_LOG_LEVEL ?? 'warn' }),
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      worker.shutdown();
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the worker did not stop within 90 s of shutdown')), 90_000);
      });
      try {
        await Promise.race([running, stuck]);
      } finally {
        clearTimeout(timer);
      }
      await connection.close();
    },
  };
}

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The newest modification time of a file under `dir` (0 when it does not exist). */
function newestUnder(dir: string): number {
  try {
    return readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
      const p = path.join(dir, e.name);
      return Math.max(max, e.isDirectory() ? newestUnder(p) : statSync(p).mtimeMs);
    }, 0);
  } catch {
    return 0;
  }
}

let command: string[] | undefined;

/**
 * How to run the CLI: as `bin/ducktail.js` runs it when `dist/` was built from the current source
 * (it starts in half the time: nothing to compile), else from source. The build's last step
 * writes `dist/workflow-bundle.js`, so a source file newer than it means `dist/` may be stale.
 * `scripts/test.sh` builds first when it is.
 */
export function cliCommand(): string[] {
  command ??= builtIsCurrent()
    ? [path.join(root, 'bin', 'ducktail.js')]
    : ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts')];
  return command;
}

function builtIsCurrent(): boolean {
  let built: number;
  try {
    built = statSync(path.join(root, 'dist', 'workflow-bundle.js')).mtimeMs;
  } catch {
    return false;
  }
  const source = Math.max(newestUnder(path.join(root, 'src')), statSync(path.join(root, 'tsconfig.json')).mtimeMs);
  return source <= built;
}

/** Runs the `ducktail` CLI (see `cliCommand`); resolves with its exit code and output. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code: code ?? -1, stdout, stderr };
}

/** Starts the `ducktail` CLI (see `cliCommand`) as a child process (for worker crash tests). */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [...cliCommand(), ...args], {
    env: { ...process.env, DUCKTAIL_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
