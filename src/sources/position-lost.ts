import type { WriteMode } from '../model/pipeline-spec.js';

/**
 * The fix for a pipeline whose source position is gone (replication slot dropped or invalidated,
 * binlog purged): no command re-syncs a pipeline onto a new position, so the copy is rebuilt. The
 * workflow must be stopped first (`teardown` refuses a running one, and a parked pipeline runs),
 * `teardown` drops the slot and forgets the checkpoint, and `start` creates a new slot and copies
 * every table again. A new snapshot does not remove rows deleted at the source meanwhile: in MERGE,
 * `verify --repair` finds and deletes them.
 */
export function positionLostHint(pipeline: string | undefined, mode?: WriteMode): string {
  const p = pipeline ?? '<pipeline>';
  const rebuild = `copy the tables again from a new position: \`ducktail stop ${p}\`, \`ducktail teardown ${p}\`, \`ducktail start ${p}\``;
  if (mode === 'append') return `${rebuild} (changes made meanwhile are missing from the audit log; the new snapshot rows hold the current rows)`;
  return `${rebuild}; then \`ducktail verify ${p} --repair\` deletes rows the source deleted meanwhile (MERGE)`;
}
