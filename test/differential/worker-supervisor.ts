import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { WorkerProcess } from '../helpers/worker-process.js';

const TAIL_LINES = 30;

/**
 * Keeps one `ducktail worker` child process running for a run: logs each incarnation to
 * `worker-<n>.log`, kills it on request (a fault), and notices when it dies on its own — a crash
 * is a finding (with the last log lines), after which a new worker is started so the run goes on.
 */
class WorkerSlot {
  private current: WorkerProcess | null = null;
  private log: WriteStream | null = null;
  private incarnation = 0;
  private tail: string[] = [];
  private stopping = false;
  private expectedExit = false;
  readonly crashes: string[] = [];

  constructor(
    private readonly configFile: string,
    private readonly address: string,
    private readonly dir: string,
    private readonly say: (line: string) => void,
    /** Log file prefix: `worker` (one worker) or `worker-a`, `worker-b`… */
    private readonly label = 'worker',
  ) {}

  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  get worker(): WorkerProcess | null {
    return this.current;
  }

  start(): void {
    this.incarnation++;
    this.expectedExit = false;
    this.tail = [];
    this.log?.end();
    const log = createWriteStream(path.join(this.dir, `${this.label}-${this.incarnation}.log`));
    this.log = log;
    const w = new WorkerProcess(this.configFile, this.address);
    this.current = w;
    let partial = '';
    w.child.stderr?.on('data', (d: Buffer) => {
      log.write(d);
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop() ?? '';
      this.tail.push(...parts);
      if (this.tail.length > TAIL_LINES) this.tail.splice(0, this.tail.length - TAIL_LINES);
    });
    w.child.stdout?.on('data', (d: Buffer) => log.write(d));
    w.child.once('exit', (code, signal) => {
      if (this.current !== w || this.expectedExit || this.stopping) return;
      const lines = this.tail.filter((l) => /"level":(40|50|60)|Error|error/.test(l)).slice(-6).map((l) => l.slice(0, 400));
      this.crashes.push(`${this.label} ${this.incarnation} exited on its own (code ${code}, signal ${signal}); last errors:\n      ${lines.join('\n      ') || '(none logged)'}`);
      this.say(`${this.label} ${this.incarnation} died on its own (code ${code}, signal ${signal}); starting a new one`);
      setTimeout(() => {
        if (!this.stopping && this.current === w) this.start();
      }, 1000).unref();
    });
  }

  /** SIGKILLs the worker (a fault) and starts a new one. */
  async crash(): Promise<void> {
    const w = this.current;
    if (w === null) return;
    this.expectedExit = true;
    await w.kill('SIGKILL');
    this.start();
  }

  /** Stops for good: SIGTERM (graceful) unless `hard`, SIGKILL after `graceMs`. */
  async stop(hard: boolean, graceMs = 25_000): Promise<void> {
    this.stopping = true;
    const w = this.current;
    this.current = null;
    if (w !== null) {
      if (hard) await w.kill('SIGKILL');
      else {
        const timer = setTimeout(() => void w.kill('SIGKILL'), graceMs);
        await w.kill('SIGTERM');
        clearTimeout(timer);
      }
    }
    await new Promise<void>((resolve) => (this.log === null ? resolve() : this.log.end(resolve)));
  }

  /** Resolves when the worker logs a line matching `re`, or after `timeoutMs` (false). */
  async waitForLog(re: RegExp, timeoutMs: number): Promise<boolean> {
    const w = this.current;
    if (w === null) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const seen = w.waitForLog(re).then(() => true);
    const result = await Promise.race([seen, timeout]);
    clearTimeout(timer);
    return result;
  }
}

/**
 * The run's worker processes: one, or several on one task queue (lake pipelines only: any worker
 * may serve them, each pipeline is placed on the least busy one). A kill takes the workers in
 * turn; each killed worker is replaced by a new process, as an operator's supervisor would.
 */
export class WorkerSupervisor {
  private readonly slots: WorkerSlot[];
  private next = 0;

  constructor(configFile: string, address: string, dir: string, say: (line: string) => void, workers = 1) {
    this.slots = Array.from({ length: workers }, (_, i) =>
      new WorkerSlot(configFile, address, dir, say, workers === 1 ? 'worker' : `worker-${String.fromCharCode(97 + i)}`),
    );
  }

  /** The worker the next fault targets (its replication connections, its SIGKILL). */
  private get target(): WorkerSlot {
    return this.slots[this.next % this.slots.length]!;
  }

  get pid(): number | undefined {
    return this.target.pid;
  }

  get crashes(): string[] {
    return this.slots.flatMap((s) => s.crashes);
  }

  start(): void {
    for (const s of this.slots) s.start();
  }

  /** SIGKILLs the next worker in turn (a fault) and starts a new one in its place. */
  async crash(): Promise<void> {
    const slot = this.target;
    this.next++;
    await slot.crash();
  }

  async stop(hard: boolean, graceMs?: number): Promise<void> {
    await Promise.all(this.slots.map((s) => s.stop(hard, graceMs)));
  }

  /** Resolves when the next worker to be killed logs a line matching `re`, or after `timeoutMs` (false). */
  async waitForLog(re: RegExp, timeoutMs: number): Promise<boolean> {
    return this.target.waitForLog(re, timeoutMs);
  }
}
