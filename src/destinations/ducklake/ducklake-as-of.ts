import type { Position } from '../../model/position.js';
import { ConfigError } from '../../errors.js';
import type { DuckLakeSession } from './ducklake-session.js';
import { LAKE_CATALOG } from './ducklake-session.js';
import { COMMIT_AUTHOR } from './ducklake-commit-info.js';
import { comparePositions, describePosition, type CommitPositionInfo } from './ducklake-positions.js';

/** A lake snapshot and the position of `pipeline` it reflects. */
export interface PositionSnapshot {
  snapshot: number;
  position: Position;
  text: string;
}

/** Every snapshot in which `pipeline` committed a batch at a settled position, oldest first. */
export async function pipelineSnapshots(session: DuckLakeSession, pipeline: string): Promise<PositionSnapshot[]> {
  const { rows } = await session.table(
    `SELECT snapshot_id, commit_extra_info FROM ${LAKE_CATALOG}.snapshots() WHERE author = '${COMMIT_AUTHOR}' ORDER BY snapshot_id`,
  );
  const found: PositionSnapshot[] = [];
  for (const [id, extra] of rows) {
    if (typeof extra !== 'string') continue;
    let info: CommitPositionInfo;
    try {
      info = JSON.parse(extra) as CommitPositionInfo;
    } catch {
      continue;
    }
    if (info.pipeline !== pipeline || info.position === null) continue;
    found.push({ snapshot: Number(id), position: info.position, text: describePosition(info.position) });
  }
  return found;
}

/**
 * The newest snapshot whose recorded position of `pipeline` is at or before `target`, compared by
 * the source's own order (never as strings). Throws a `ConfigError` naming the earliest position
 * available when `target` precedes every commit.
 */
export async function snapshotAsOf(session: DuckLakeSession, pipeline: string, target: Position): Promise<PositionSnapshot> {
  const all = await pipelineSnapshots(session, pipeline);
  const first = all[0];
  if (first === undefined) {
    throw new ConfigError(`pipeline ${pipeline} has committed no batch at a source position to this lake yet`, 'query without --as-of-position, or wait for its first batch after the initial snapshot');
  }
  if (first.position.kind !== target.kind) {
    throw new ConfigError(`pipeline ${pipeline} records ${first.position.kind === 'pg' ? 'PostgreSQL LSNs' : 'binlog positions'}, not positions like ${describePosition(target)}`, `pass a position like ${first.text}`);
  }
  let best: PositionSnapshot | undefined;
  for (const s of all) if (comparePositions(s.position, target) <= 0) best = s;
  if (best === undefined) {
    throw new ConfigError(
      `position ${describePosition(target)} is before pipeline ${pipeline}'s first commit to this lake`,
      `pass a position at or after ${first.text}, the earliest available`,
    );
  }
  return best;
}
