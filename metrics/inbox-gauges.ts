import * as names from '../ops/metric-names';
import type { InboxBacklog } from '../store/receipt-inbox-backlog';
import type { SwitchboardMetrics } from './registry';

/**
 * The receipt inbox's depth and oldest age, read from PostgreSQL when Prometheus scrapes (the
 * inbox is shared by every worker). A failed read keeps the last values.
 */
export function watchReceiptInbox(metrics: SwitchboardMetrics, backlog: () => Promise<InboxBacklog>): void {
  let reading: Promise<InboxBacklog | null> | null = null;
  const read = () => {
    reading ??= backlog()
      .catch(() => null)
      .finally(() => setImmediate(() => (reading = null)));
    return reading;
  };
  metrics.gauge(names.RECEIPT_INBOX_DEPTH, 'Receipts waiting in the inbox for their workflow.', async (g) => {
    const b = await read();
    if (b) g.set(b.depth);
  });
  metrics.gauge(
    names.RECEIPT_INBOX_OLDEST_AGE_SECONDS,
    'Age of the oldest receipt waiting in the inbox for its workflow (0: none).',
    async (g) => {
      const b = await read();
      if (b) g.set(b.oldestAgeSeconds);
    },
  );
}
