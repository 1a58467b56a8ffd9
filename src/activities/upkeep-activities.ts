import { Context } from '@temporalio/activity';
import { lakeSecrets } from '../composition.js';
import { runLakeUpkeep } from '../destinations/ducklake/ducklake-upkeep.js';
import { DuckLakeSession } from '../destinations/ducklake/ducklake-session.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { DEFAULT_LAKE_UPKEEP, isLake, upkeepSettings } from '../model/pipeline-spec.js';
import type { LakeUpkeepInput, UpkeepActivities } from './activity-types.js';
import { retryLakeConflicts } from './lake-conflicts.js';
import { asActivity } from './to-failure.js';

const HEARTBEAT_MS = 10_000;

/** The upkeep activity: its own lake session, so loads of the same lake in this process never queue behind it. */
export function createUpkeepActivities({ logger }: { logger: Logger }): UpkeepActivities {
  return {
    lakeUpkeep: ({ spec }: LakeUpkeepInput) =>
      asActivity(async () => {
        const destination = spec.destination;
        if (!isLake(destination)) throw new ConfigError(`pipeline ${spec.name} writes a DuckDB file, not a lake: it has no upkeep`, 'upkeep is for destination kind ducklake');
        // Upkeep turned off in the spec still runs when asked for (`ducktail upkeep NAME`), with the defaults.
        const settings = upkeepSettings(destination) ?? DEFAULT_LAKE_UPKEEP;
        const ctx = Context.current();
        let step = 'attach';
        const beat = setInterval(() => ctx.heartbeat({ step }), HEARTBEAT_MS);
        const session = await DuckLakeSession.open({ destination, ...lakeSecrets(spec) });
        try {
          const report = await retryLakeConflicts(
            () => runLakeUpkeep(session, settings, (s) => {
              step = s;
              ctx.heartbeat({ step });
            }),
            (attempt) => logger.debug({ pipeline: spec.name, attempt, step }, 'lake upkeep lost a commit to a load; running again'),
          );
          logger.info({ pipeline: spec.name, ...report }, 'lake upkeep done');
          return report;
        } finally {
          clearInterval(beat);
          await session.close();
        }
      }),
  };
}
