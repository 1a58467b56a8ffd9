import { DestinationError, DucktailError, LakeCommitConflictError } from '../../errors.js';

/** A secret (or several: catalog password, storage secret) errors must not show. */
export type Secrets = string | readonly string[] | undefined;

/**
 * Hides a libpq `password=…` in text DuckDB may echo (an error naming the connection string, as
 * written or inside a SQL literal), and every spelling of each secret when it is known (as
 * written, inside a SQL literal, libpq-quoted, and both).
 */
export function redactPassword(text: string, secrets?: Secrets): string {
  let out = text.replace(/password\s*=\s*(''(?:[^']|''(?!\s|$))*''|'(?:[^'\\]|\\.)*'|\S+)/gi, 'password=***');
  for (const secret of typeof secrets === 'string' ? [secrets] : (secrets ?? [])) {
    if (secret.length === 0) continue;
    const escaped = secret.replace(/[\\']/g, (c) => `\\${c}`);
    for (const spelling of [escaped.replaceAll("'", "''"), escaped, secret.replaceAll("'", "''"), secret]) out = out.split(spelling).join('***');
  }
  return out;
}

/** A DuckLake commit refused because a concurrent writer changed what this transaction changed. */
export function isCommitConflict(err: unknown): boolean {
  return err instanceof Error && /Transaction conflict/i.test(err.message);
}

/**
 * An error from a statement on the lake: a commit conflict becomes the retryable
 * `LakeCommitConflictError`; any other keeps its message, with a password it may echo hidden.
 */
export function lakeError(err: unknown, secret?: Secrets): Error {
  if (err instanceof DucktailError) return err;
  const message = redactPassword(err instanceof Error ? err.message : String(err), secret);
  if (isCommitConflict(err)) {
    return new LakeCommitConflictError(
      `DuckLake commit conflict: ${message.split('\n').slice(-1)[0] ?? message}`,
      'nothing to do: another writer of the lake committed first; the load retries',
    );
  }
  return err instanceof Error && message === err.message ? err : new Error(message);
}

/**
 * The error for a lake that could not be attached. Missing extensions, a missing catalog
 * database or refused credentials need a person (non-retryable `DestinationError` with the fix);
 * anything else (e.g. the catalog server not reachable right now) stays retryable.
 */
export function attachError(lake: string, err: unknown, secret?: Secrets): Error {
  const cause = lakeError(err, secret);
  if (cause instanceof DucktailError) return cause;
  const detail = cause.message.split('\n')[0] ?? cause.message;
  const fix = attachErrorFix(cause.message);
  return fix === null ? new Error(`cannot attach DuckLake ${lake}: ${cause.message}`) : new DestinationError(`cannot attach DuckLake ${lake}: ${detail}`, fix);
}

function attachErrorFix(message: string): string | null {
  if (/extension/i.test(message) && /not found|download|install|could not load|failed to load/i.test(message)) {
    return "DuckDB's ducklake and postgres extensions (and httpfs for object storage) are missing: run npm run setup (installs them without internet), or let the worker reach DuckDB's extension repository";
  }
  if (/database "[^"]*" does not exist/i.test(message)) {
    return 'create the catalog database first (e.g. createdb NAME on the catalog server), or fix dbname= in destination.catalog';
  }
  if (/password authentication failed|no password supplied|role "[^"]*" does not exist/i.test(message)) {
    return 'fix user= in destination.catalog, or export the password in the worker environment and set destination.passwordEnv';
  }
  if (/Permission denied|Read-only file system/i.test(message)) {
    return 'give the user running the worker write access to destination.dataPath, or point it elsewhere';
  }
  return null;
}
