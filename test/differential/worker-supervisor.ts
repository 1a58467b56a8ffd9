import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { WorkerProcess } from '../helpers/worker-process.js';

const TAIL_LINES = 30;

/**
 * Keeps one `ducktail worker` child process running for a run: logs each incarnation to
 * `worker-<n>.log`, kills it on request (a fault), and notices when it dies on its own — a crash
 * is a finding (with the last log lines), after which a new worker is started so the run goes on.
 */
export class WorkerSupervisor {
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
    const log = createWriteStream(path.join(this.dir, `worker-${this.incarnation}.log`));
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
      this.crashes.push(`worker ${this.incarnation} exited on its own (code ${code}, signal ${signal}); last errors:\n      ${lines.join('\n      ') || '(none logged)'}`);
      this.say(`worker ${this.incarnation} died on its own (code ${code}, signal ${signal}); starting a new one`);
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
