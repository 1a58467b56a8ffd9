import type { BatchManifest } from '../../model/batch.js';
import type { SqlRunner } from '../duckdb/duckdb-connection.js';
import { quoteIdent, quoteLiteral } from '../duckdb/duckdb-sql.js';
import { commitPositionInfo } from './ducklake-positions.js';

/** The author of every commit a pipeline makes, as DuckLake's snapshots show it. */
export const COMMIT_AUTHOR = 'ducktail';

/**
 * Records, in the open transaction, the source position the batch's checkpoint reaches as the
 * lake commit's message and extra info (`<lake>.snapshots()` shows them), so a reader can find the
 * snapshot that reflects one source position (`ducktail query --as-of-position`).
 */
export async function recordCommitPosition(db: SqlRunner, manifest: BatchManifest): Promise<void> {
  const info = commitPositionInfo(manifest.pipeline, manifest.to);
  const message = `${manifest.pipeline} at ${info.text ?? 'initial snapshot (in progress)'}`;
  await db.run(
    `CALL ${quoteIdent(db.catalog)}.set_commit_message(${quoteLiteral(COMMIT_AUTHOR)}, ${quoteLiteral(message)}, extra_info => ${quoteLiteral(JSON.stringify(info))})`,
  );
}
