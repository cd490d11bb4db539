// Read receipts become status events here: RBM's READ usually arrives after the message's
// workflow has finished (it ends at DELIVERED), so it cannot be the workflow's to write.
import type { ReceiptSink } from '../receipts/receipt-dispatcher';
import type { ReadRecord } from '../../store/status-events';

/** The message's first events are not written yet; the dispatcher retries the receipt (signals are idempotent). */
export class ReadBeforeTrackedError extends Error {
  override readonly name = 'ReadBeforeTrackedError';
}

export interface ReadRecorder {
  recordRead(rbmMessageId: string, occurredAt: Date): Promise<ReadRecord>;
}

/** The sink, plus a 'read' status event for each RBM READ, after the signal went through. */
export function withReadEvents(sink: ReceiptSink, outbox: ReadRecorder): ReceiptSink {
  return {
    smsReceipt: (workflowId, receipt) => sink.smsReceipt(workflowId, receipt),
    async rcsEvent(workflowId, event) {
      const outcome = await sink.rcsEvent(workflowId, event);
      if (event.eventType !== 'READ') return outcome;
      const recorded = await outbox.recordRead(event.rbmMessageId, new Date());
      // A workflow still running may not have written its first rows yet (they go out with the
      // send's own audit write, after the hub answered): 'untracked' is retried. A message whose
      // rows are written but has no events wants none ('unwanted', final: never retried).
      if (recorded === 'untracked' && outcome === 'delivered') throw new ReadBeforeTrackedError();
      return outcome;
    },
  };
}
