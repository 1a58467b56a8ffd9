/**
 * Errors that say what is wrong and how to fix it. `type` travels to the workflow as the
 * `ApplicationFailure` type; `nonRetryable` marks errors a retry cannot fix.
 */
export abstract class DucktailError extends Error {
  abstract readonly type: string;
  abstract readonly nonRetryable: boolean;

  constructor(
    message: string,
    /** How to fix it, one sentence. */
    readonly hint?: string,
  ) {
    super(hint === undefined ? message : `${message}\n  fix: ${hint}`);
    this.name = new.target.name;
  }
}

/** Thrown when ducktail.yaml or a pipeline spec is invalid. */
export class ConfigError extends DucktailError {
  readonly type: string = 'ConfigError';
  readonly nonRetryable = true;
}

/**
 * Thrown when a pipeline spec given as JSON (a workflow's input, e.g. typed into the Temporal UI)
 * is invalid: nothing but a new start with a corrected input can fix it, so the run fails with it.
 */
export class InvalidSpecError extends ConfigError {
  override readonly type: string = 'InvalidSpecError';
}

/** Thrown when a source server setting prevents change capture (wal_level, binlog_format, ...). */
export class SourceSettingError extends DucktailError {
  readonly type = 'SourceSettingError';
  readonly nonRetryable = true;
}

/** Thrown when a configured table does not exist at the source. */
export class TableNotFoundError extends DucktailError {
  readonly type = 'TableNotFoundError';
  readonly nonRetryable = true;
}

/** Thrown when a table without primary key is replicated in merge mode. */
export class NoPrimaryKeyError extends DucktailError {
  readonly type = 'NoPrimaryKeyError';
  readonly nonRetryable = true;
}

/** Thrown when the source user lacks a privilege capture needs. */
export class PrivilegeError extends DucktailError {
  readonly type = 'PrivilegeError';
  readonly nonRetryable = true;
}

/** Thrown when the source cannot be reached or refused the login. `nonRetryable` for bad credentials. */
export class SourceConnectionError extends DucktailError {
  readonly type = 'SourceConnectionError';
  constructor(
    message: string,
    hint: string | undefined,
    readonly nonRetryable: boolean,
  ) {
    super(message, hint);
  }
}

/** Thrown when the source no longer has the position to resume from (slot dropped, binlog purged). */
export class PositionLostError extends DucktailError {
  readonly type = 'PositionLostError';
  readonly nonRetryable = true;
}

/** Thrown when a value or row cannot be staged or loaded (too big, not castable). */
export class BadValueError extends DucktailError {
  readonly type = 'BadValueError';
  readonly nonRetryable = true;
}

/** Thrown when the DuckDB file is held by another process; loads wait and retry. */
export class DestinationBusyError extends DucktailError {
  readonly type = 'DestinationBusyError';
  readonly nonRetryable = false;
}

/**
 * Thrown when a DuckLake commit lost to a concurrent writer of the same lake (DuckLake allows many
 * writers and refuses a commit whose changes conflict with one made since): the load retries.
 */
export class LakeCommitConflictError extends DucktailError {
  readonly type = 'LakeCommitConflictError';
  readonly nonRetryable = false;
}

/**
 * Thrown when a lake's object store cannot be reached (nothing listens at its endpoint): the store
 * may come back, so the load retries for as long as it lasts, showing as `RETRYING` in status.
 */
export class StorageUnreachableError extends DucktailError {
  readonly type = 'StorageUnreachableError';
  readonly nonRetryable = false;
}

/**
 * Thrown when the DuckDB file holds a table this pipeline cannot write: another pipeline writes it,
 * it holds rows of the other mode, or it was not made by Ducktail.
 */
export class DestinationConflictError extends DucktailError {
  readonly type = 'DestinationConflictError';
  readonly nonRetryable = true;
}

/**
 * Thrown when a staged batch no longer fits the stored checkpoint (it was staged from another
 * position, or its spool is gone): the workflow discards it and captures again.
 */
export class StaleBatchError extends DucktailError {
  readonly type = 'StaleBatchError';
  readonly nonRetryable = true;
}

/**
 * Thrown when the DuckDB destination cannot be used as configured (missing directory, a directory
 * or a non-DuckDB file at the path, no write permission): a retry cannot fix it.
 */
export class DestinationError extends DucktailError {
  readonly type = 'DestinationError';
  readonly nonRetryable = true;
}

/**
 * Thrown at the activity boundary when an error that is not known to be transient has failed the
 * same activity several attempts in a row: retrying further would stall the pipeline silently.
 */
export class RepeatedFailureError extends DucktailError {
  readonly type = 'RepeatedFailure';
  readonly nonRetryable = true;
}

/** Thrown when a CLI command gives up waiting for a pipeline (e.g. `ducktail stop` past its `--timeout`). */
export class CommandTimeoutError extends DucktailError {
  readonly type = 'CommandTimeoutError';
  readonly nonRetryable = true;
}
