import type { PipelineSpec } from '../model/pipeline-spec.js';
import { MysqlSource } from './mysql/mysql-source.js';
import { PostgresSource } from './postgres/postgres-source.js';
import type { SourceConnector } from './source-connector.js';
import type { SourceDeps } from './source-deps.js';

/** Builds the connector for a pipeline's source kind. */
export function createSource(spec: PipelineSpec, deps: SourceDeps): SourceConnector {
  switch (spec.source.kind) {
    case 'postgres':
      return new PostgresSource(spec, deps);
    case 'mysql':
      return new MysqlSource(spec, deps);
  }
}
