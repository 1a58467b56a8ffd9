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

/** A local S3-compatible server (moto) on a free port; accepts any keys until `enforceAuth`. */
export interface S3TestServer {
  /** `127.0.0.1:PORT`, as a lake's `storage.endpoint` takes it. */
  endpoint: string;
  createBucket(bucket: string): Promise<void>;
  /** The keys of the objects under `prefix` in `bucket`. */
  listKeys(bucket: string, prefix: string): Promise<string[]>;
  /** A new IAM user's access key, allowed every S3 action (before `enforceAuth`). */
  createAccessKey(): Promise<{ keyId: string; secret: string }>;
  /**
   * From now on the server checks every request's signature against its IAM users' keys and
   * policies, as S3 does (moto's `INITIAL_NO_AUTH_ACTION_COUNT`, reset to 0). The unsigned
   * `createBucket` and `listKeys` are refused after it.
   */
  enforceAuth(): Promise<void>;
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
    createAccessKey: () => createAccessKey(endpoint),
    async enforceAuth() {
      const res = await fetch(`http://${endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
      if (!res.ok) throw new Error(`enforcing auth: HTTP ${res.status} ${await res.text()}`);
    },
    stop: () => stopChild(child),
  };
}

let users = 0;

/** Creates the IAM user and its key with moto's own boto3 (IAM's API needs signed requests). */
async function createAccessKey(endpoint: string): Promise<{ keyId: string; secret: string }> {
  const script = `
import boto3, json, sys
iam = boto3.client('iam', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='AKIASETUP', aws_secret_access_key='setup')
user = 'ducktail-' + sys.argv[2]
iam.create_user(UserName=user)
iam.put_user_policy(UserName=user, PolicyName='s3', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 's3:*', 'Resource': '*'}]}))
key = iam.create_access_key(UserName=user)['AccessKey']
print(json.dumps({'keyId': key['AccessKeyId'], 'secret': key['SecretAccessKey']}))
`;
  const child = spawn(MOTO_PYTHON, ['-c', script, `http://${endpoint}`, String(++users)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`creating an access key on the S3 test server failed (${code}): ${err}`);
  return JSON.parse(out) as { keyId: string; secret: string };
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
