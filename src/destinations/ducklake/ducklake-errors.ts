import { DestinationError, DucktailError, LakeCommitConflictError, StorageUnreachableError } from '../../errors.js';
import type { DuckLakeDestinationSpec } from '../../model/pipeline-spec.js';
import { s3Bucket } from './ducklake-storage.js';

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
 * `LakeCommitConflictError`; an object-storage error (see `storageError`, when the lake's
 * `destination` is given) a `DestinationError` with the fix or the retryable
 * `StorageUnreachableError`; any other keeps its message, with a password it may echo hidden.
 */
export function lakeError(err: unknown, secret?: Secrets, destination?: DuckLakeDestinationSpec): Error {
  if (err instanceof DucktailError) return err;
  const message = redactPassword(err instanceof Error ? err.message : String(err), secret);
  if (isCommitConflict(err)) {
    return new LakeCommitConflictError(
      `DuckLake commit conflict: ${message.split('\n').slice(-1)[0] ?? message}`,
      'nothing to do: another writer of the lake committed first; the load retries',
    );
  }
  const storage = destination === undefined ? null : storageError(destination, message);
  if (storage !== null) return storage;
  return err instanceof Error && message === err.message ? err : new Error(message);
}

/** The S3 error code httpfs puts on a line of its own below an `HTTP Error` (e.g. `NoSuchBucket: The specified bucket does not exist`). */
const S3_CODE_LINE = /^(NoSuchBucket|InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied)\b.*$/m;
/** The store refused the request: any HTTP 403, as httpfs reports it on a write (`HTTP code 403`) or a read (`HTTP 403 Forbidden`). */
const FORBIDDEN = /\b(InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied)\b|\(HTTP code 403\)|\(HTTP 403\b/;

/** httpfs could not open a connection to the store (e.g. connection refused): `IO Error: Could not connect to server error for HTTP PUT to '…'`. */
const UNREACHABLE = /Could not connect to server error for HTTP \w+ to '/;

/**
 * An object-storage error, from DuckDB's message (already redacted), classified. Retrying cannot
 * fix a missing bucket (S3 `NoSuchBucket`) or refused keys (HTTP 403: `InvalidAccessKeyId`,
 * `SignatureDoesNotMatch`, `AccessDenied`): a `DestinationError` naming the fix. A store nothing
 * answers at may come back: the retryable `StorageUnreachableError`. Null for any other error,
 * e.g. a missing data file (`NoSuchKey`, or a bare 404 on a read, which httpfs reports without
 * the S3 code), which can be lake upkeep removing a file a reader used.
 */
export function storageError(destination: DuckLakeDestinationSpec, message: string): DucktailError | null {
  const { dataPath, storage } = destination;
  const store = storage?.endpoint === undefined ? (storage === undefined ? 'the store' : 'AWS S3') : `the store at ${storage.endpoint}`;
  if (UNREACHABLE.test(message)) {
    return new StorageUnreachableError(
      `DuckLake data path ${dataPath}: cannot reach ${store} (${message.split('\n')[0] ?? message})`,
      `nothing to do if the store is down for a while: the load retries until it answers; otherwise fix ${storage === undefined ? 'the endpoint DuckDB uses' : 'destination.storage.endpoint (and useSsl)'}, or let the worker reach it`,
    );
  }
  const missingBucket = /\bNoSuchBucket\b/.test(message);
  if (!missingBucket && !FORBIDDEN.test(message)) return null;
  const bucket = s3Bucket(dataPath) ?? dataPath;
  const detail = S3_CODE_LINE.exec(message)?.[0] ?? message.split('\n')[0] ?? message;
  if (missingBucket) {
    return new DestinationError(
      `DuckLake data path ${dataPath}: the bucket ${bucket} does not exist on ${store} (${detail})`,
      `create the bucket ${bucket.replace(/^s3:\/\//, '')} on ${store}, or fix destination.dataPath${storage === undefined ? '' : ' (or destination.storage.endpoint, if that is the wrong store)'}`,
    );
  }
  const fix =
    storage === undefined
      ? `check the credentials DuckDB finds for ${bucket} (e.g. a secret made with CREATE PERSISTENT SECRET), or add a destination.storage block naming the variables that hold the keys`
      : `check the keys in the worker's environment variables ${[storage.keyIdEnv, storage.secretEnv, storage.sessionTokenEnv].filter((v) => v !== undefined).join(', ')} (a key of ${store} allowed to read and write ${bucket}), and destination.storage.region and endpoint`;
  return new DestinationError(`DuckLake data path ${dataPath}: ${store} refused the keys (${detail})`, fix);
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
