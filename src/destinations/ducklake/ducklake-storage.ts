import type { DuckLakeDestinationSpec } from '../../model/pipeline-spec.js';
import { quoteIdent, quoteLiteral } from '../duckdb/duckdb-sql.js';

/** The keys of an S3-compatible store, read by the worker from the variables `destination.storage` names. */
export interface StorageKeys {
  keyId: string;
  secret: string;
  sessionToken?: string;
}

/** Data paths DuckDB reaches through its httpfs extension (S3 and compatible stores, GCS, R2, HTTP). */
const REMOTE_DATA_PATH = /^(s3|s3a|s3n|gs|gcs|r2|https?):\/\//i;

/** True when the lake's data files are on object storage: the session loads httpfs. */
export function isRemoteDataPath(dataPath: string): boolean {
  return REMOTE_DATA_PATH.test(dataPath);
}

/** `s3://bucket` of an `s3://bucket/…` data path (the scope of its secret), or null for any other path. */
export function s3Bucket(dataPath: string): string | null {
  const match = /^s3:\/\/([^/]+)/i.exec(dataPath);
  return match === null ? null : `s3://${match[1]}`;
}

/** The name of the temporary secret the session creates for the lake's bucket. */
export const LAKE_SECRET = 'ducktail_lake_storage';

/**
 * `CREATE TEMPORARY SECRET` for the lake's bucket, from `destination.storage` and the keys read
 * from the environment; null when the destination has no storage block. Scoped to the bucket, so
 * other secrets (DuckDB's persistent ones) still serve other paths. The statement holds the
 * secret: it is only ever run, never logged (errors are redacted with `lakeSecrets`).
 */
export function createSecretSql(destination: DuckLakeDestinationSpec, keys: StorageKeys | undefined): string | null {
  const storage = destination.storage;
  if (storage === undefined) return null;
  const scope = s3Bucket(destination.dataPath);
  if (scope === null) throw new Error(`destination.storage is for an s3:// dataPath, not ${destination.dataPath}`);
  if (keys === undefined) throw new Error(`the keys of ${scope} (destination.storage.keyIdEnv, secretEnv) were not read from the environment`);
  const options = [`TYPE s3`, `KEY_ID ${quoteLiteral(keys.keyId)}`, `SECRET ${quoteLiteral(keys.secret)}`];
  if (keys.sessionToken !== undefined) options.push(`SESSION_TOKEN ${quoteLiteral(keys.sessionToken)}`);
  if (storage.region !== undefined) options.push(`REGION ${quoteLiteral(storage.region)}`);
  if (storage.endpoint !== undefined) options.push(`ENDPOINT ${quoteLiteral(storage.endpoint)}`);
  if (storage.urlStyle !== undefined) options.push(`URL_STYLE ${quoteLiteral(storage.urlStyle)}`);
  if (storage.useSsl !== undefined) options.push(`USE_SSL ${storage.useSsl ? 'true' : 'false'}`);
  options.push(`SCOPE ${quoteLiteral(scope)}`);
  return `CREATE OR REPLACE TEMPORARY SECRET ${quoteIdent(LAKE_SECRET)} (${options.join(', ')})`;
}
