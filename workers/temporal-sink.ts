import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ReceiptSink, SignalOutcome } from '../channels/receipts/receipt-dispatcher';
import { rcsEventSignal, smsReceiptSignal } from '../workflows/definitions';

/** Delivers routed receipts to workflows as signals; a finished workflow is not an error. */
export function temporalReceiptSink(client: Client): ReceiptSink {
  const signal = async (run: () => Promise<void>): Promise<SignalOutcome> => {
    try {
      await run();
      return 'delivered';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'closed';
      throw err;
    }
  };
  return {
    rcsEvent: (workflowId, event) =>
      signal(() => client.workflow.getHandle(workflowId).signal(rcsEventSignal, event)),
    smsReceipt: (workflowId, receipt) =>
      signal(() => client.workflow.getHandle(workflowId).signal(smsReceiptSignal, receipt)),
  };
}
