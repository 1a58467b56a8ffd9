import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { spawnCli } from './temporal.js';

/**
 * A `ducktail worker` child process that tests can kill. It logs at debug level, and
 * `waitForLog` resolves when a log line matches (e.g. `"msg":"load started"`).
 */
export class WorkerProcess {
  private waiters: { re: RegExp; resolve: () => void }[] = [];
  /** Every log line the worker wrote so far (stderr, one JSON object each). */
  readonly lines: string[] = [];
  readonly child: ChildProcess;

  /** `args` go after `worker` (e.g. `--metrics-port`); `env` adds to the worker's environment (e.g. its own `TMPDIR`). */
  constructor(configFile: string, address: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
    this.child = spawnCli(['--config', configFile, '--address', address, 'worker', ...args], { DUCKTAIL_LOG_LEVEL: 'debug', ...env });
    let buffer = '';
    this.child.stderr?.on('data', (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const line of parts) this.waiters = this.waiters.filter((w) => (w.re.test(line) ? (w.resolve(), false) : true));
    });
  }

  waitForLog(re: RegExp): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ re, resolve }));
  }

  /** How many log lines so far match `re`. */
  count(re: RegExp): number {
    return this.lines.filter((l) => re.test(l)).length;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    await exited;
  }
}
