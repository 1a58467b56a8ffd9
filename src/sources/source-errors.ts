/**
 * What failed, for the messages of every source's error mapper (`toDucktailError` in
 * `<source>-errors.ts`): what was being done, where and as whom, and the table or position involved.
 */
export interface ErrorContext {
  /** What was being done, e.g. `creating replication slot s1`. */
  doing?: string;
  /** `host:port` of the source. */
  endpoint?: string;
  user?: string;
  table?: string;
  position?: string;
  /** The pipeline, so a fix can name its commands. */
  pipeline?: string;
}

/**
 * Every source's error mapper: turns a driver or network error into the `DucktailError` that says
 * how to fix it, or returns it unchanged when there is no better class (retryable by default at
 * the activity boundary).
 */
export type ErrorMapper = (err: unknown, ctx: ErrorContext) => Error;
