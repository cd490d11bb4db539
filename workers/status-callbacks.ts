// The status callbacks' parts in the worker process: the outbox every audit write goes through,
// read receipts turned into events, and the sender that POSTs them (README, "Status callbacks").
import type { Logger } from 'pino';
import type { ReceiptSink } from '../channels/receipts/receipt-dispatcher';
import { CallbackSender } from '../channels/callbacks/callback-sender';
import type { OutboxEvent } from '../store/status-events';
import { withReadEvents } from '../channels/callbacks/read-events';
import type { Env } from '../config';
import { deriveKey } from '../config/secrets';
import type { Secrets } from '../config/secrets';
import { callbackMeter } from '../metrics';
import type { SwitchboardMetrics } from '../metrics';
import type { AuditLog } from '../store/audit-log';
import type { Database } from '../store/database';
import { StatusEventOutbox } from '../store/status-events';
import { sweepStatusEvents } from '../store/status-events-sweep';
import { TenantWebhooks } from '../store/tenant-webhooks';

/** Audit seqs of the callback sender's own rows: past the workflow lanes (workflows/audit-trail.ts). */
export const CALLBACK_AUDIT_LANE = 3000;

/** How often the outbox is swept (held reads expired, old settled events deleted). */
const OUTBOX_SWEEP_MS = 10 * 60_000;

export interface StatusCallbacks {
  /** The AuditSink of the delivery activities: audit rows and their events in one statement. */
  outbox: StatusEventOutbox;
  /** The receipt dispatcher's sink, recording read receipts as events. */
  receiptSink(sink: ReceiptSink): ReceiptSink;
  stop(): Promise<void>;
}

export function startStatusCallbacks(o: {
  env: Env;
  db: Database;
  secrets: Secrets;
  audit: AuditLog;
  metrics: SwitchboardMetrics;
  logger: Logger;
}): StatusCallbacks {
  const { env } = o;
  const outbox = new StatusEventOutbox(o.db, o.audit);
  const sender = new CallbackSender({
    outbox,
    secrets: new TenantWebhooks(o.db, deriveKey(o.secrets, 'webhook-secrets'), {
      secretGraceMs: env.CALLBACK_SECRET_GRACE_MS,
    }),
    logger: o.logger,
    meter: callbackMeter(o.metrics, () => outbox.depth()),
    onUndeliverable: (event, error) => auditUndeliverable(o.db, o.audit, event, error),
    timeoutMs: env.CALLBACK_TIMEOUT_MS,
    connectTimeoutMs: env.CALLBACK_CONNECT_TIMEOUT_MS,
    retryForMs: env.CALLBACK_RETRY_FOR_MS,
    retryBaseMs: env.CALLBACK_RETRY_BASE_MS,
    retryMaxMs: env.CALLBACK_RETRY_MAX_MS,
    privateTargets: {
      allowAll: env.CALLBACK_ALLOW_PRIVATE_HOSTS,
      allowed: env.CALLBACK_ALLOWED_PRIVATE_TARGETS,
    },
    pollMs: env.CALLBACK_POLL_MS,
    concurrency: env.CALLBACK_CONCURRENCY,
    concurrencyPerTenant: env.CALLBACK_CONCURRENCY_PER_TENANT,
  });
  sender.start();
  // Held reads whose outcome never came are given up after the retry budget; settled events
  // are deleted after CALLBACK_EVENT_RETENTION_DAYS (the audit trail keeps what happened).
  const sweep = setInterval(() => {
    sweepStatusEvents(o.db, env.CALLBACK_RETRY_FOR_MS, env.CALLBACK_EVENT_RETENTION_DAYS)
      .then((swept) => {
        if (swept.expired + swept.deleted > 0) o.logger.info(swept, 'status events outbox swept');
      })
      .catch((err: unknown) => o.logger.warn({ err: (err as Error).name }, 'status events sweep failed'));
  }, OUTBOX_SWEEP_MS);
  sweep.unref();
  return {
    outbox,
    receiptSink: (sink) => withReadEvents(sink, outbox),
    stop: () => {
      clearInterval(sweep);
      return sender.stop();
    },
  };
}

/** An event given up on joins its message's audit trail, under the message's own context. */
export async function auditUndeliverable(
  db: Database,
  audit: AuditLog,
  e: OutboxEvent,
  error: string,
): Promise<void> {
  const { rows } = await db.query<{ tenant: string; recipient_hash: string; region: string; flow: string }>(
    'SELECT tenant, recipient_hash, region, flow FROM audit_log WHERE message_id = $1 ORDER BY seq LIMIT 1',
    [e.event.messageId],
  );
  const first = rows[0];
  if (!first) return;
  await audit.appendHashed(
    { tenant: first.tenant, recipientHash: first.recipient_hash, region: first.region, flow: first.flow },
    [
      {
        messageId: e.event.messageId,
        seq: CALLBACK_AUDIT_LANE + e.event.sequence,
        event: 'callback_undeliverable',
        channel: null,
        result: 'undeliverable',
        errorCode: error,
        detail: { sequence: e.event.sequence, status: e.event.status, attempts: e.attempts },
        occurredAt: new Date().toISOString(),
      },
    ],
  );
}
