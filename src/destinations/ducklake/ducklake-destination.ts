import { logger as processLogger, type Logger } from '../../logger.js';
import type { DuckLakeDestinationSpec } from '../../model/pipeline-spec.js';
import { DuckDBDestination } from '../duckdb/duckdb-destination.js';
import { recordCommitPosition } from './ducklake-commit-info.js';
import { ducklakeColumnDdl } from './ducklake-ddl.js';
import { DuckLakeSession, type LakeSecrets } from './ducklake-session.js';

const shared = new Map<string, Promise<DuckDBDestination>>();

/**
 * The destination for a DuckLake, opened once per catalog and data path in this process and
 * shared by every pipeline writing it. It is the DuckDB destination running on the attached lake
 * (same MERGE and APPEND SQL, bookkeeping, `_ducktail` state and one-transaction checkpoint),
 * with DuckLake's own column changes (ducklake-ddl.ts). A commit that loses to another writer of
 * the lake throws the retryable `LakeCommitConflictError`. Each batch's commit records the source
 * position it reaches (ducklake-commit-info.ts).
 */
export function openDuckLakeDestination(
  destination: DuckLakeDestinationSpec,
  secrets: LakeSecrets | undefined,
  logger: Logger = processLogger,
): Promise<DuckDBDestination> {
  const key = JSON.stringify([destination.catalog, destination.dataPath]);
  const cached = shared.get(key);
  if (cached !== undefined) return cached;
  const forget = (): void => {
    if (shared.get(key) === opening) shared.delete(key);
  };
  const opening = DuckLakeSession.open({ destination, ...secrets }).then(
    (session) => new DuckDBDestination(session, forget, logger, { component: 'ducklake', ddl: ducklakeColumnDdl, beforeCommit: recordCommitPosition }),
  );
  shared.set(key, opening);
  opening.catch(forget);
  return opening;
}

/** Closes every lake `openDuckLakeDestination` opened (worker shutdown). */
export async function closeAllDuckLakeDestinations(): Promise<void> {
  const opened = await Promise.allSettled([...shared.values()]);
  for (const o of opened) if (o.status === 'fulfilled') await o.value.close();
}
