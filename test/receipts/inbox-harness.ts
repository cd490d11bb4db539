import pino from 'pino';
import type { Logger } from 'pino';
import { ReceiptDispatcher } from '../../channels/receipts/receipt-dispatcher';
import type {
  ReceiptDispatcherOptions,
  ReceiptSink,
  SignalOutcome,
} from '../../channels/receipts/receipt-dispatcher';
import { ReceiptResolver } from '../../channels/receipts/receipt-resolver';
import { receiptIdCandidates } from '../../channels/sms/delivery-receipt';
import type { Database } from '../../store/database';
import { RcsSends } from '../../store/rcs-sends';
import { ReceiptInbox } from '../../store/receipt-inbox';
import { SmsSubmissions } from '../../store/sms-submissions';
import { listenForReceipts } from '../../workers/receipt-inbox-listener';

export interface Signalled {
  workflowId: string;
  id: string;
  state: string;
}

/** A sink that records every signal; `outcome` decides each answer (throw: Temporal unreachable). */
export function recordingSink(outcome: (s: Signalled) => SignalOutcome = () => 'delivered'): ReceiptSink & {
  signals: Signalled[];
} {
  const signals: Signalled[] = [];
  const take = (s: Signalled): Promise<SignalOutcome> => {
    try {
      const answer = outcome(s);
      signals.push(s);
      return Promise.resolve(answer);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return {
    signals,
    smsReceipt: (workflowId, r) => take({ workflowId, id: r.smscMessageId, state: r.state }),
    rcsEvent: (workflowId, e) => take({ workflowId, id: e.rbmMessageId, state: e.eventType }),
  };
}

/** The worker's receipt pipeline on a real database: inbox, resolver, dispatcher and its LISTEN. */
export function startInboxPipeline(options: {
  db: Database;
  databaseUrl: string;
  sink: ReceiptSink;
  logger?: Logger;
  tuning?: Partial<
    Pick<ReceiptDispatcherOptions, 'sweepMs' | 'orphanAfterMs' | 'retryMaxMs' | 'signalTimeoutMs'>
  >;
}): { inbox: ReceiptInbox; dispatcher: ReceiptDispatcher; stop(): Promise<void> } {
  const logger = options.logger ?? pino({ level: 'silent' });
  const inbox = new ReceiptInbox(options.db);
  const dispatcher = new ReceiptDispatcher({
    inbox,
    resolver: new ReceiptResolver({
      submissions: new SmsSubmissions(options.db),
      rcsSends: new RcsSends(options.db),
      idCandidates: receiptIdCandidates,
    }),
    sink: options.sink,
    logger,
    sweepMs: 60_000,
    orphanAfterMs: 60_000,
    retryMaxMs: 1000,
    ...options.tuning,
  });
  dispatcher.start();
  const listener = listenForReceipts({ databaseUrl: options.databaseUrl, dispatcher, logger });
  return {
    inbox,
    dispatcher,
    async stop() {
      await listener.stop();
      await dispatcher.stop();
    },
  };
}
