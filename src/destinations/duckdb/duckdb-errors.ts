import { BadValueError, DestinationBusyError, DestinationError, DucktailError } from '../../errors.js';

/** True when DuckDB refused to open a file because another process holds its lock. */
export function isLockConflict(err: unknown): boolean {
  return err instanceof Error && /Could not set lock on file|Conflicting lock is held/i.test(err.message);
}

/** The error for a DuckDB file another process has open (DuckDB allows one writing process per file). */
export function busyError(path: string, cause: unknown): DestinationBusyError {
  const detail = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  return new DestinationBusyError(
    `DuckDB file ${path} is open in another process: ${detail}`,
    'close the other program (e.g. the duckdb CLI) that has the file open; loads retry',
  );
}

/**
 * The error for a DuckDB file that could not be opened. A lock held by another process is
 * transient (`DestinationBusyError`, retried); everything else DuckDB reports when opening a file
 * (not a database, a directory, a missing directory, no permission, read-only file system, other
 * IO errors) needs a person: a non-retryable `DestinationError` with the fix.
 */
export function openError(path: string, cause: unknown): DucktailError | Error {
  if (cause instanceof DucktailError) return cause;
  if (isLockConflict(cause)) return busyError(path, cause);
  const message = cause instanceof Error ? cause.message : String(cause);
  const detail = message.split('\n')[0] ?? message;
  const fix = openErrorFix(message, path);
  if (fix === null) return cause instanceof Error ? cause : new Error(message);
  return new DestinationError(`cannot open DuckDB file ${path}: ${detail}`, fix);
}

function openErrorFix(message: string, path: string): string | null {
  if (/not a valid DuckDB database file/i.test(message)) {
    return 'destination.path names a file that is not a DuckDB database: point it at a new file or an existing DuckDB database';
  }
  if (/Is a directory/i.test(message)) return `destination.path is a directory: point it at a file inside it, e.g. ${path}/ducktail.duckdb`;
  if (/Not a directory/i.test(message)) return 'a part of destination.path before the file name is a file: fix destination.path';
  if (/No such file or directory/i.test(message)) return 'the directory of destination.path does not exist: create it or fix destination.path';
  if (/Permission denied|Operation not permitted/i.test(message)) return 'give the user running the worker read and write access to the file and its directory, or point destination.path elsewhere';
  if (/Read-only file system/i.test(message)) return 'the file system is mounted read-only: point destination.path at a writable location';
  if (/version number|newer version|older version|storage version/i.test(message)) {
    return 'the file was written by another DuckDB version: use a matching DuckDB version or a new destination.path';
  }
  if (/^IO Error/i.test(message)) return 'fix the file system problem named above (disk full, permissions, a damaged file), then `ducktail resume` the pipeline';
  return null;
}

/**
 * Names the table being loaded in an error from applying one segment. A value DuckDB cannot
 * convert becomes `BadValueError`: retrying the same batch cannot succeed.
 */
export function segmentError(table: string, file: string, err: unknown): Error {
  if (err instanceof DucktailError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const where = `loading ${table} (${file})`;
  // DuckDB also reports plans built on wrong statistics as "Invalid Input Error": not a bad value.
  if (/^(Conversion|Invalid Input) Error/.test(message) && !/statistics/i.test(message)) {
    return new BadValueError(
      `${where}: ${message}`,
      "the source emitted a value DuckDB cannot convert to the column's type; fix the value or the type mapping",
    );
  }
  const wrapped = new Error(`${where}: ${message}`, { cause: err });
  return wrapped;
}
