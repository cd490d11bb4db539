import { ReceiptDispatcher } from '../../channels/receipts/receipt-dispatcher';
import { ReceiptResolver } from '../../channels/receipts/receipt-resolver';
import { receiptIdCandidates } from '../../channels/sms/delivery-receipt';
import { keyDirectoryToken } from '../../config/key-directory';
import { deriveKey } from '../../config/secrets';
import { PostgresKeyDirectory } from '../../e2ee/key-directory';
import * as metering from '../../metrics';
import { EscrowStore } from '../../store/escrow-store';
import type { MediaObjectStore } from '../../store/media-objects';
import { RcsSends } from '../../store/rcs-sends';
import { ReceiptInbox } from '../../store/receipt-inbox';
import { SmsSubmissions } from '../../store/sms-submissions';
import { listenForReceipts } from '../receipt-inbox-listener';
import { startReceiptsServer } from '../receipts-server';
import { temporalReceiptSink } from '../temporal-sink';
import type { RoleContext } from './context';
import type { StatusCallbacks } from '../status-callbacks';

/**
 * The receipt router (`--services receipts`): the RBM webhook and key directory API, media
 * uploads, and the dispatcher that turns inbox rows (from the webhook and from every delivery
 * worker's SMPP binds) into signals. Returns the server's URL.
 */
export async function startReceiptRouter(
  ctx: RoleContext,
  deps: { agentIds: string[]; mediaObjects: MediaObjectStore; callbacks: StatusCallbacks },
): Promise<string> {
  const { env, db, logger, opened } = ctx;
  const inbox = new ReceiptInbox(db);
  const dispatcher = new ReceiptDispatcher({
    inbox,
    resolver: new ReceiptResolver({
      submissions: new SmsSubmissions(db),
      rcsSends: new RcsSends(db),
      idCandidates: receiptIdCandidates,
    }),
    sink: deps.callbacks.receiptSink(temporalReceiptSink(ctx.client)),
    logger: logger.child({ component: 'receipts' }),
    sweepMs: env.RECEIPT_INBOX_SWEEP_MS,
    orphanAfterMs: env.RECEIPT_ORPHAN_AFTER_MS,
    retryMaxMs: env.RECEIPT_RETRY_MAX_MS,
  });
  dispatcher.start();
  opened.push(() => dispatcher.stop());
  const inboxListener = listenForReceipts({ databaseUrl: ctx.databaseUrl, dispatcher, logger });
  opened.push(() => inboxListener.stop());
  const bearerToken = keyDirectoryToken(env, ctx.secrets);
  const receipts = await startReceiptsServer({
    host: env.RECEIPTS_HOST,
    port: env.RECEIPTS_PORT,
    clientToken: env.RCS_WEBHOOK_CLIENT_TOKEN,
    agentIds: deps.agentIds,
    inbox,
    logger: logger.child({ component: 'receipts' }),
    // Apps claim recipients' MLS KeyPackages here (client-managed E2EE).
    keyDirectory: {
      directory: new PostgresKeyDirectory(db, deriveKey(ctx.secrets, 'key-directory')),
      bearerToken,
      escrowMembers: new EscrowStore(db),
    },
    mediaUploads: { store: deps.mediaObjects, bearerToken },
    meter: metering.httpMeter(ctx.metrics, 'receipts'),
  });
  opened.push(() => receipts.server.close());
  return receipts.url;
}
