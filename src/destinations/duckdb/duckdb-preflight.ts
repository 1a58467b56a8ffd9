import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DestinationError } from '../../errors.js';
import { spoolBaseDir } from '../../staging/spool-paths.js';

/** DuckDB database files carry these bytes at offset 8 (after the header checksum). */
const DUCKDB_MAGIC = 'DUCK';
const MAGIC_OFFSET = 8;

/** The file system calls the check makes; tests inject failures a root user would never see. */
export interface PreflightFs {
  stat(p: string): Promise<{ isDirectory(): boolean; isFile(): boolean; size: number }>;
  access(p: string, mode: number): Promise<void>;
  readHead(p: string, bytes: number): Promise<Buffer>;
  mkdir(p: string): Promise<void>;
  rmdir(p: string): Promise<void>;
}

const nodeFs: PreflightFs = {
  stat: (p) => fsp.stat(p),
  access: (p, mode) => fsp.access(p, mode),
  async readHead(p, bytes) {
    const handle = await fsp.open(p, 'r');
    try {
      const buf = Buffer.alloc(bytes);
      const { bytesRead } = await handle.read(buf, 0, bytes, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  },
  mkdir: (p) => fsp.mkdir(p).then(() => undefined),
  rmdir: (p) => fsp.rmdir(p),
};

/**
 * Checks that `file` can serve as a pipeline's DuckDB database, without opening (or creating) it:
 * its directory exists and is writable, the path is not a directory, an existing file is a DuckDB
 * database, and the spool directory beside it (`<file>-spool`) can be created. Throws a
 * non-retryable `DestinationError` that says what is wrong and how to fix it.
 */
export async function checkDestination(file: string, fs: PreflightFs = nodeFs): Promise<void> {
  if (file === ':memory:') return;
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  await checkDirectory(abs, dir, fs);
  await checkDatabaseFile(abs, fs);
  await checkSpoolDirectory(spoolBaseDir(abs), fs);
}

async function checkDirectory(abs: string, dir: string, fs: PreflightFs): Promise<void> {
  const stat = await fs.stat(dir).catch((err: NodeJS.ErrnoException) => err);
  if (stat instanceof Error) {
    if (stat.code === 'ENOENT') {
      throw new DestinationError(
        `DuckDB file ${abs}: its directory ${dir} does not exist`,
        `create it (mkdir -p ${dir}) or fix destination.path`,
      );
    }
    if (stat.code === 'ENOTDIR') {
      throw new DestinationError(
        `DuckDB file ${abs}: a part of ${dir} is a file, not a directory`,
        'fix destination.path so that every part before the file name is a directory',
      );
    }
    throw unusable(`DuckDB file ${abs}: cannot inspect its directory ${dir}`, stat);
  }
  if (!stat.isDirectory()) {
    throw new DestinationError(`DuckDB file ${abs}: ${dir} is a file, not a directory`, 'fix destination.path so that every part before the file name is a directory');
  }
  await fs.access(dir, constants.W_OK | constants.X_OK).catch((err: NodeJS.ErrnoException) => {
    throw unusable(`DuckDB file ${abs}: cannot create files in ${dir}`, err);
  });
}

async function checkDatabaseFile(abs: string, fs: PreflightFs): Promise<void> {
  const stat = await fs.stat(abs).catch((err: NodeJS.ErrnoException) => err);
  if (stat instanceof Error) {
    if (stat.code === 'ENOENT') return; // DuckDB creates it
    throw unusable(`DuckDB file ${abs}: cannot inspect it`, stat);
  }
  if (stat.isDirectory()) {
    throw new DestinationError(
      `destination.path ${abs} is a directory, not a DuckDB file`,
      `point destination.path at a file, e.g. ${path.join(abs, 'ducktail.duckdb')}`,
    );
  }
  if (!stat.isFile()) {
    throw new DestinationError(`destination.path ${abs} is not a regular file`, 'point destination.path at a new or existing DuckDB database file');
  }
  await fs.access(abs, constants.R_OK | constants.W_OK).catch((err: NodeJS.ErrnoException) => {
    throw unusable(`DuckDB file ${abs} is not writable`, err);
  });
  const head = await fs.readHead(abs, MAGIC_OFFSET + DUCKDB_MAGIC.length).catch((err: NodeJS.ErrnoException) => {
    throw unusable(`DuckDB file ${abs} cannot be read`, err);
  });
  if (head.subarray(MAGIC_OFFSET).toString('latin1') !== DUCKDB_MAGIC) {
    const what = stat.size === 0 ? 'is an empty file' : 'exists but is not a DuckDB database';
    throw new DestinationError(
      `destination.path ${abs} ${what} (DuckDB cannot open it, and Ducktail never overwrites other files)`,
      'point destination.path at a new file or an existing DuckDB database, or move that file away',
    );
  }
}

/** The spool directory beside the file must be a directory Ducktail can write (created now and removed if missing). */
async function checkSpoolDirectory(spool: string, fs: PreflightFs): Promise<void> {
  const stat = await fs.stat(spool).catch((err: NodeJS.ErrnoException) => err);
  if (!(stat instanceof Error)) {
    if (!stat.isDirectory()) {
      throw new DestinationError(
        `${spool} (where Ducktail stages batches, beside the DuckDB file) exists but is not a directory`,
        'move that file away, or choose another destination.path',
      );
    }
    await fs.access(spool, constants.W_OK | constants.X_OK).catch((err: NodeJS.ErrnoException) => {
      throw unusable(`cannot write to ${spool} (where Ducktail stages batches, beside the DuckDB file)`, err);
    });
    return;
  }
  if (stat.code !== 'ENOENT') throw unusable(`cannot inspect ${spool} (where Ducktail stages batches)`, stat);
  // Permission bits do not bind root; only creating the directory shows it can be created.
  await fs.mkdir(spool).catch((err: NodeJS.ErrnoException) => {
    throw unusable(`cannot create ${spool} (where Ducktail stages batches, beside the DuckDB file)`, err);
  });
  await fs.rmdir(spool).catch(() => undefined);
}

function unusable(what: string, err: NodeJS.ErrnoException): DestinationError {
  const code = err.code ?? '';
  const user = currentUser();
  const hint =
    code === 'EROFS'
      ? 'the file system is mounted read-only: point destination.path at a writable location'
      : code === 'EACCES' || code === 'EPERM'
        ? `give the user running the worker (${user} here) write access, or point destination.path elsewhere`
        : 'fix destination.path or the file system error, then start again';
  return new DestinationError(`${what}: ${err.message}`, hint);
}

function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'this process';
  }
}
