import { BadValueError, DestinationBusyError, DucktailError } from '../../errors.js';

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
 * Names the table being loaded in an error from applying one segment. A value DuckDB cannot
 * convert becomes `BadValueError`: retrying the same batch cannot succeed.
 */
export function segmentError(table: string, file: string, err: unknown): Error {
  if (err instanceof DucktailError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const where = `loading ${table} (${file})`;
  if (/^(Conversion|Invalid Input) Error/.test(message)) {
    return new BadValueError(
      `${where}: ${message}`,
      "the source emitted a value DuckDB cannot convert to the column's type; fix the value or the type mapping",
    );
  }
  const wrapped = new Error(`${where}: ${message}`, { cause: err });
  return wrapped;
}
