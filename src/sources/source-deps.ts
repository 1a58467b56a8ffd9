import type { Logger } from '../logger.js';

/** What the worker gives a connector besides the pipeline spec. */
export interface SourceDeps {
  /** The source password, read by the worker from the environment (`source.passwordEnv`). */
  password?: string;
  logger: Logger;
  /** How often a streaming capture looks for schema changes the stream does not carry (see `SchemaProbe`). */
  schemaProbeMs?: number;
}
