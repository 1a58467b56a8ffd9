import { ApplicationFailure } from '@temporalio/common';
import { DucktailError } from '../errors.js';

/** Runs an activity body, turning a DucktailError into an ApplicationFailure the workflow can branch on. */
export async function asActivity<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof DucktailError) {
      throw ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: err.nonRetryable, cause: err });
    }
    throw err;
  }
}
