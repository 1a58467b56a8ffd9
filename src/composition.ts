import type { Destination } from './destinations/destination.js';
import { openDuckDBDestination } from './destinations/duckdb/duckdb-destination.js';
import { checkDestination } from './destinations/duckdb/duckdb-preflight.js';
import { openDuckLakeDestination } from './destinations/ducklake/ducklake-destination.js';
import type { LakeSecrets } from './destinations/ducklake/ducklake-session.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { isLake, type PipelineSpec } from './model/pipeline-spec.js';
import { MysqlSource } from './sources/mysql/mysql-source.js';
import { PostgresSource } from './sources/postgres/postgres-source.js';
import type { SourceConnector } from './sources/source-connector.js';
import type { SourceDeps } from './sources/source-deps.js';
import { SourceRegistry } from './sources/source-registry.js';

/**
 * The sources and destinations of pipelines, built from their specs. The worker's activities,
 * `ducktail dev` and the CLI commands get them here: this module is the only one that names the
 * connector classes.
 */
export interface PipelineConnectors {
  /** The pipeline's source, opened once and reused by later calls until its spec changes. */
  source(spec: PipelineSpec): Promise<SourceConnector>;
  /** The pipeline's source if one is open in this process (never opens one). */
  openSource(pipeline: string): SourceConnector | undefined;
  /**
   * Checks that the pipeline's destination can be used, creating nothing in a DuckDB file's
   * place (a lake is attached, which sets up an empty catalog); throws a non-retryable
   * `DestinationError` with the fix when it cannot.
   */
  checkDestination(spec: PipelineSpec): Promise<void>;
  /** The pipeline's destination, shared by every pipeline writing the same file (or lake) in this process. */
  destination(spec: PipelineSpec): Promise<Destination>;
  /** Closes every source and destination opened through this object. */
  close(): Promise<void>;
}

export interface ConnectorDeps {
  logger: Logger;
  /** Where `source.passwordEnv` is looked up (default: this process's environment). */
  env?: NodeJS.ProcessEnv;
}

export function createConnectors(deps: ConnectorDeps): PipelineConnectors {
  const env = deps.env ?? process.env;
  const sources = new SourceRegistry((spec) => createSource(spec, { password: sourcePassword(spec, env), logger: deps.logger }));
  const destinations = new Set<Destination>();
  return {
    source: (spec) => sources.get(spec),
    openSource: (pipeline) => sources.peek(pipeline),
    async checkDestination(spec) {
      const d = spec.destination;
      // A lake is checked by attaching it (which sets up the catalog's tables when it is empty).
      if (isLake(d)) destinations.add(await openDuckLakeDestination(d, lakeSecrets(spec, env), deps.logger));
      else await checkDestination(d.path);
    },
    async destination(spec) {
      const d = spec.destination;
      const dest = isLake(d) ? await openDuckLakeDestination(d, lakeSecrets(spec, env), deps.logger) : await openDuckDBDestination(d.path, deps.logger);
      destinations.add(dest);
      return dest;
    },
    async close() {
      await sources.closeAll();
      const opened = [...destinations];
      destinations.clear();
      for (const dest of opened) await dest.close();
    },
  };
}

function createSource(spec: PipelineSpec, deps: SourceDeps): SourceConnector {
  switch (spec.source.kind) {
    case 'postgres':
      return new PostgresSource(spec, deps);
    case 'mysql':
      return new MysqlSource(spec, deps);
  }
}

/** The source password from the environment variable `source.passwordEnv` names, if it names one. */
function sourcePassword(spec: PipelineSpec, env: NodeJS.ProcessEnv): string | undefined {
  return passwordFrom(spec, 'source.passwordEnv', spec.source.passwordEnv, env);
}

/**
 * What the worker needs from its environment to reach the pipeline's lake: the catalog password
 * (`destination.passwordEnv`) and the object store's keys (`destination.storage.keyIdEnv`,
 * `secretEnv`, `sessionTokenEnv`), each only when the spec names its variable. A named variable
 * that is not set is a non-retryable `ConfigError` naming it.
 */
export function lakeSecrets(spec: PipelineSpec, env: NodeJS.ProcessEnv = process.env): LakeSecrets {
  const d = spec.destination;
  if (!isLake(d)) return {};
  const password = passwordFrom(spec, 'destination.passwordEnv', d.passwordEnv, env);
  const storage = d.storage;
  if (storage === undefined) return password === undefined ? {} : { password };
  const keyId = passwordFrom(spec, 'destination.storage.keyIdEnv', storage.keyIdEnv, env) ?? '';
  const secret = passwordFrom(spec, 'destination.storage.secretEnv', storage.secretEnv, env) ?? '';
  const sessionToken = passwordFrom(spec, 'destination.storage.sessionTokenEnv', storage.sessionTokenEnv, env);
  return { ...(password === undefined ? {} : { password }), storageKeys: { keyId, secret, ...(sessionToken === undefined ? {} : { sessionToken }) } };
}

function passwordFrom(spec: PipelineSpec, field: string, name: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (name === undefined) return undefined;
  const value = env[name];
  if (value === undefined) {
    throw new ConfigError(
      `pipeline ${spec.name}: ${field} names ${name}, but the worker's environment has no ${name}`,
      `export ${name}=... in the environment of the process running the worker (ducktail worker / ducktail dev)`,
    );
  }
  return value;
}
