import { ApplicationFailure } from '@temporalio/workflow';

/** The failure type of a run whose input is invalid (the activities' `InvalidSpecError` too). */
export const INVALID_SPEC = 'InvalidSpecError';

/**
 * The failure that ends a run whose input is invalid: nothing but a new start with a corrected
 * input can fix it, so the run fails (visible in the workflow list) instead of waiting for `resume`.
 */
export function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: INVALID_SPEC, message, nonRetryable: true });
}

/**
 * Throws `invalidInput` unless `input` has the shape `{ "spec": { … } }`; the spec itself is
 * validated by `preparePipeline`. Input typed into the Temporal UI may be anything.
 */
export function checkInputShape(input: unknown): void {
  const fix = 'fix: start the workflow again with the input {"spec": {…}} (`ducktail spec NAME` prints it)';
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidInput(`invalid workflow input: expected a JSON object, got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}\n  ${fix}`);
  }
  const spec = (input as { spec?: unknown }).spec;
  if (typeof spec === 'object' && spec !== null && !Array.isArray(spec)) return;
  const bare = 'name' in input || 'source' in input;
  throw invalidInput(
    bare
      ? `invalid workflow input: the pipeline spec must be under "spec"\n  ${fix}`
      : `invalid workflow input: "spec" is missing or not an object\n  ${fix}`,
  );
}
