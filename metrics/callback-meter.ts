import type { CallbackMeter, CallbackResult } from '../channels/callbacks/callback-sender';
import * as names from '../ops/metric-names';
import type { SwitchboardMetrics } from './registry';

/** Callback results, and the outbox depth read from PostgreSQL at each scrape (kept on a failed read). */
export function callbackMeter(metrics: SwitchboardMetrics, depth: () => Promise<number>): CallbackMeter {
  metrics.gauge(names.CALLBACK_OUTBOX_DEPTH, 'Status events waiting to be sent.', async (g) => {
    try {
      g.set(await depth());
    } catch {
      // the previous value stays
    }
  });
  return { counted: (result: CallbackResult) => metrics.callbacks.inc({ result }) };
}
