import type { Client, WorkflowHandle } from '@temporalio/client';
// The SDK's own protobuf classes (a dependency of @temporalio/client): the encoded size of an
// event is what the server stores for it.
import proto from '@temporalio/proto';

const { HistoryEvent } = proto.temporal.api.history.v1;

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

/**
 * Encoded bytes of the history events written after `mark`, across continue-as-new: the runs
 * after the marked one are followed back through `continuedExecutionRunId`.
 */
export async function historyBytesSince(client: Client, workflowId: string, mark: HistoryMark): Promise<number> {
  let { runId } = await client.workflow.getHandle(workflowId).describe();
  let bytes = 0;
  for (;;) {
    const { events = [] } = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const after = runId === mark.runId ? mark.eventId : 0;
    for (const event of events ?? []) {
      if (toNumber(event.eventId) > after) bytes += HistoryEvent.encode(event).finish().byteLength;
    }
    if (runId === mark.runId) return bytes;
    const previous = events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (previous == null || previous === '') throw new Error(`the history of ${workflowId} does not lead back to run ${mark.runId}`);
    runId = previous;
  }
}

function toNumber(id: { toNumber(): number } | number | null | undefined): number {
  if (id == null) return 0;
  return typeof id === 'number' ? id : id.toNumber();
}
