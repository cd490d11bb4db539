import pg from 'pg';
import type { Logger } from 'pino';
import type { ReceiptDispatcher } from '../channels/receipts/receipt-dispatcher';
import { RECEIPT_INBOX_CHANNEL } from '../store/receipt-inbox';

/**
 * LISTENs for the inbox's notifications on a connection of its own (a pooled one would be handed
 * back and lose them) and wakes the dispatcher. A lost connection is reopened with backoff; each
 * (re)connect wakes the dispatcher, since notifications sent meanwhile are gone.
 */
export function listenForReceipts(options: {
  databaseUrl: string;
  dispatcher: ReceiptDispatcher;
  logger: Logger;
}): { stop(): Promise<void> } {
  let client: pg.Client | null = null;
  let stopped = false;
  let backoffMs = 250;
  let retry: NodeJS.Timeout | null = null;

  const reconnectLater = (): void => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = null;
      void connect();
    }, backoffMs);
    backoffMs = Math.min(backoffMs * 2, 10_000);
  };

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: 5000 });
    client = c;
    c.on('error', () => {
      c.end().catch(() => undefined);
      if (client === c) reconnectLater();
    });
    c.on('end', () => {
      if (client === c) reconnectLater();
    });
    c.on('notification', (n) => options.dispatcher.wake(n.payload === 'mapping'));
    try {
      await c.connect();
      await c.query(`LISTEN ${RECEIPT_INBOX_CHANNEL}`);
    } catch (err) {
      options.logger.warn({ err: (err as Error).name }, 'receipt inbox LISTEN failed; retrying');
      c.end().catch(() => undefined);
      reconnectLater();
      return;
    }
    if (stopped) return void c.end().catch(() => undefined);
    backoffMs = 250;
    options.dispatcher.wake(true);
  };

  void connect();
  return {
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
