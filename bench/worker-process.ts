import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The built CLI, as users run it (`npm run build` first: the bench does). */
const CLI = fileURLToPath(new URL('../bin/ducktail.js', import.meta.url));
const READY = /"msg":"worker running"/;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 90_000;

/** Resident and peak resident memory of a process, from /proc/<pid>/status, in MiB. */
export interface ProcessMemory {
  rssMb: number;
  hwmMb: number;
}

/** What a wait on a pipeline checks between polls: that the worker (or workers) serving it still run. */
export interface Liveness {
  assertRunning(): Promise<void>;
}

/**
 * `ducktail worker` in its own process (the built CLI, as users run it), so its
 * memory is the worker's alone. It logs at debug level into `logFile`, whose per-batch capture
 * and load lines tell where the time goes (see `readBatchTimings`).
 */
export class WorkerProcess implements Liveness {
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private readonly exited: Promise<void>;
  private exitCode: number | null | undefined;

  private constructor(configFile: string, address: string, readonly logFile: string, env: NodeJS.ProcessEnv) {
    this.log = createWriteStream(logFile, { flags: 'a' });
    this.child = spawn(process.execPath, [CLI, '--config', configFile, '--address', address, 'worker'], {
      env: { ...process.env, ...env, DUCKTAIL_LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.pipe(this.log, { end: false });
    this.child.stderr?.pipe(this.log, { end: false });
    this.exited = once(this.child, 'exit').then(([code]) => {
      this.exitCode = code as number | null;
    });
  }

  /** Spawns a worker (with `env` added to the bench's environment) and resolves once it polls its task queue. */
  static async start(configFile: string, address: string, logFile: string, env: NodeJS.ProcessEnv = {}): Promise<WorkerProcess> {
    const worker = new WorkerProcess(configFile, address, logFile, env);
    await worker.ready();
    return worker;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('the worker process did not start');
    return this.child.pid;
  }

  /** Throws if the worker exited (it should run until `stop`), with the end of its log. */
  async assertRunning(): Promise<void> {
    if (this.exitCode === undefined) return;
    throw new Error(`the worker exited with code ${this.exitCode}; its log ends with:\n${await this.logTail()}`);
  }

  /** Its current and peak RSS. */
  async memory(): Promise<ProcessMemory> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kib('VmRSS') / 1024, hwmMb: kib('VmHWM') / 1024 };
  }

  /**
   * Resets the peak RSS (VmHWM) to the current RSS (Linux `clear_refs` 5), so the peak read
   * later belongs to what ran after this call, not to start-up (bundling the workflow code).
   */
  async resetPeak(): Promise<void> {
    await writeFile(`/proc/${this.pid}/clear_refs`, '5');
  }

  /** SIGTERM, then waits for the worker to finish its activities and exit (SIGKILL after 90 s). */
  async stop(): Promise<void> {
    if (this.exitCode === undefined) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    await this.closeLog();
  }

  /**
   * SIGKILL: once a measurement is over, nothing it left needs a graceful end (a capture in
   * flight would idle up to `idleWaitMs` first), and the scenario drops its slot and files.
   */
  async kill(): Promise<void> {
    if (this.exitCode === undefined) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    await this.closeLog();
  }

  private closeLog(): Promise<void> {
    return new Promise<void>((resolve) => (this.log.writableEnded ? resolve() : this.log.end(resolve)));
  }

  private async ready(): Promise<void> {
    let seen = '';
    const ready = new Promise<void>((resolve) => {
      const onData = (d: Buffer): void => {
        seen = (seen + d.toString()).slice(-4096);
        if (!READY.test(seen)) return;
        this.child.stderr?.off('data', onData);
        resolve();
      };
      this.child.stderr?.on('data', onData);
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS)));
    const outcome = await Promise.race([ready.then(() => 'ready' as const), this.exited.then(() => 'exited' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'ready') return;
    if (outcome === 'timeout') this.child.kill('SIGKILL');
    throw new Error(`the worker did not start (${outcome}); its log ends with:\n${await this.logTail()}`);
  }

  private async logTail(): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text.split('\n').slice(-20).join('\n');
  }
}

/** Several worker processes on one task queue: running while every one of them runs. */
export class WorkerGroup implements Liveness {
  constructor(readonly workers: WorkerProcess[]) {}

  /** Starts `count` workers at once; if one fails to start, the others are killed. */
  static async start(count: number, start: () => Promise<WorkerProcess>): Promise<WorkerGroup> {
    const started = await Promise.allSettled(Array.from({ length: count }, start));
    const failed = started.find((r) => r.status === 'rejected');
    const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (failed === undefined) return new WorkerGroup(workers);
    for (const w of workers) await w.kill();
    throw failed.reason;
  }

  async assertRunning(): Promise<void> {
    for (const w of this.workers) await w.assertRunning();
  }

  async kill(): Promise<void> {
    for (const w of this.workers) await w.kill();
  }
}

/** Seconds the worker spent in capture and in load activities between `from` and `to` (epoch ms), from its debug log. */
export async function readBatchTimings(logFile: string, from: number, to: number): Promise<{ captureSeconds: number; loadSeconds: number }> {
  let capture = 0;
  let load = 0;
  for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: { time?: number; msg?: string; ms?: number };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.time === undefined || entry.ms === undefined || entry.time < from || entry.time > to) continue;
    if (entry.msg === 'capture staged') capture += entry.ms;
    else if (entry.msg === 'load committed') load += entry.ms;
  }
  return { captureSeconds: capture / 1000, loadSeconds: load / 1000 };
}

/** What a worker's debug log says of the lake between `from` and `to` (epoch ms). */
export interface LakeLog {
  /** The pipelines whose loads committed in this worker. */
  pipelines: Set<string>;
  /** Lake commits lost to a concurrent one (the load applied the batch again). */
  conflicts: number;
}

export async function readLakeLog(logFile: string, from: number, to: number): Promise<LakeLog> {
  const log: LakeLog = { pipelines: new Set(), conflicts: 0 };
  for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: { time?: number; msg?: string; pipeline?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.time === undefined || entry.time < from || entry.time > to) continue;
    if (entry.msg === 'load committed' && entry.pipeline !== undefined) log.pipelines.add(entry.pipeline);
    else if (entry.msg?.startsWith('lake commit conflict') === true) log.conflicts++;
  }
  return log;
}
