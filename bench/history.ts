import type { Client, WorkflowHandle } from '@temporalio/client';
// The SDK's own protobuf classes (a dependency of @temporalio/client): the encoded size of an
// event is what the server stores for it.
import proto from '@temporalio/proto';

const { HistoryEvent } = proto.temporal.api.history.v1;
export type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

/** A point in a workflow's history: the run and the id of its last event then. */
export interface HistoryMark {
  runId: string;
  eventId: number;
}

export async function historyMark(handle: WorkflowHandle): Promise<HistoryMark> {
  const { runId } = await handle.describe();
  const { events } = await handle.client.getHandle(handle.workflowId, runId).fetchHistory();
  return { runId, eventId: toNumber(events?.at(-1)?.eventId) };
}

/** The encoded size of one event, as the server stores it. */
export function eventBytes(event: HistoryEvent): number {
  return HistoryEvent.encode(event).finish().byteLength;
}

/**
 * The history events written after `mark`, oldest first, across continue-as-new: the runs
 * after the marked one are followed back through `continuedExecutionRunId`.
 */
export async function historyEventsSince(client: Client, workflowId: string, mark: HistoryMark): Promise<HistoryEvent[]> {
  let { runId } = await client.workflow.getHandle(workflowId).describe();
  const runs: HistoryEvent[][] = [];
  for (;;) {
    const { events = [] } = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const after = runId === mark.runId ? mark.eventId : 0;
    runs.unshift((events ?? []).filter((event) => toNumber(event.eventId) > after));
    if (runId === mark.runId) return runs.flat();
    const previous = events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (previous == null || previous === '') throw new Error(`the history of ${workflowId} does not lead back to run ${mark.runId}`);
    runId = previous;
  }
}

function toNumber(id: { toNumber(): number } | number | null | undefined): number {
  if (id == null) return 0;
  return typeof id === 'number' ? id : id.toNumber();
}
