import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The virtualenv scripts/install-s3-test-server.sh fills with moto's S3-compatible server. */
const MOTO_PYTHON = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.tools/moto/bin/python');

/** False when the object-storage tests can run; else why not (node:test's `skip` takes the message). */
export const S3_SERVER_SKIP: false | string = existsSync(MOTO_PYTHON)
  ? false
  : 'no local S3 server in .tools/moto: run bash scripts/install-s3-test-server.sh (or npm run setup)';

/** A local S3-compatible server (moto) on a free port; accepts any keys. */
export interface S3TestServer {
  /** `127.0.0.1:PORT`, as a lake's `storage.endpoint` takes it. */
  endpoint: string;
  createBucket(bucket: string): Promise<void>;
  /** The keys of the objects under `prefix` in `bucket`. */
  listKeys(bucket: string, prefix: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startS3Server(): Promise<S3TestServer> {
  const port = await freePort();
  const endpoint = `127.0.0.1:${port}`;
  const child = spawn(MOTO_PYTHON, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  try {
    await waitUntilUp(`http://${endpoint}/`, child, () => stderr);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    endpoint,
    async createBucket(bucket) {
      const res = await fetch(`http://${endpoint}/${bucket}`, { method: 'PUT' });
      if (!res.ok) throw new Error(`creating bucket ${bucket}: HTTP ${res.status} ${await res.text()}`);
    },
    async listKeys(bucket, prefix) {
      const res = await fetch(`http://${endpoint}/${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`);
      if (!res.ok) throw new Error(`listing ${bucket}: HTTP ${res.status}`);
      return [...(await res.text()).matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1] ?? '');
    },
    stop: () => stopChild(child),
  };
}

async function waitUntilUp(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the S3 test server exited (${child.exitCode}): ${stderr()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the S3 test server did not answer at ${url} within 20 s: ${stderr()}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
