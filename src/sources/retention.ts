import type { SourceRetention } from '../model/retention.js';
import { formatBytes } from '../util/bytes.js';

/** The warning for a source keeping more than `warnBytes` for `pipeline`, or null. */
export function thresholdWarning(pipeline: string, bytes: number | null, log: SourceRetention['log'], warnBytes: number): string | null {
  if (bytes === null || bytes <= warnBytes) return null;
  return (
    `the source keeps ${formatBytes(bytes)} of ${log} for this pipeline, over retention.warnBytes (${formatBytes(warnBytes)}), and it grows until the pipeline loads it: ` +
    `resume it (\`ducktail resume ${pipeline}\`) or let it catch up; a pipeline no longer needed frees it with \`ducktail stop ${pipeline}\` and \`ducktail teardown ${pipeline}\``
  );
}
