import { DucktailError } from '../errors.js';

/**
 * Thrown when `ducktail verify` cannot compare a pipeline at all: its DuckDB file is missing or
 * stays locked, a named table is not one the pipeline replicates, it runs in APPEND mode.
 */
export class VerifyError extends DucktailError {
  readonly type = 'VerifyError';
  readonly nonRetryable = true;
}
