// A test database with the outbox, a tenant's webhook, a receiving app endpoint and senders
// built as the worker builds them: for the outbox and sender suites (no Temporal).
import pino from 'pino';
import { CallbackSender } from '../../channels/callbacks/callback-sender';
import type { CallbackResult, CallbackSenderOptions } from '../../channels/callbacks/callback-sender';
import type { AuditContext, AuditEntry } from '../../domain/audit';
import { AuditLog } from '../../store/audit-log';
import { StatusEventOutbox } from '../../store/status-events';
import { TenantWebhooks } from '../../store/tenant-webhooks';
import { auditUndeliverable } from '../../workers/status-callbacks';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';
import { startTestReceiver } from './receiver';
import type { TestReceiver } from './receiver';

export const KEY = 'ab'.repeat(32);
export const TENANT = 'outbox-tenant';

export const context = (url?: string): AuditContext => ({
  tenant: TENANT,
  recipient: '+15550200777',
  region: 'us',
  flow: 'standard',
  ...(url ? { statusCallbackUrl: url } : {}),
});

export const row = (
  messageId: string,
  seq: number,
  event: string,
  extra: Partial<AuditEntry> = {},
): AuditEntry => ({
  messageId,
  seq,
  event,
  channel: null,
  result: null,
  errorCode: null,
  detail: {},
  occurredAt: new Date().toISOString(),
  ...extra,
});

/** received, routed, then the outcome: 'accepted' and 'delivered' events. */
export const delivered = (m: string) => [
  row(m, 0, 'received'),
  row(m, 1, 'routed', { channel: 'rcs' }),
  row(m, 2, 'completed', { channel: 'rcs', result: 'delivered' }),
];

export interface OutboxFixture {
  t: TestDatabase;
  audit: AuditLog;
  outbox: StatusEventOutbox;
  webhooks: TenantWebhooks;
  receiver: TestReceiver;
  /** What the senders' meter counted since the last reset. */
  results: CallbackResult[];
  sender(o?: Partial<CallbackSenderOptions>): CallbackSender;
  /** After each test: senders stopped, the receiver answering 204 again. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startOutboxFixture(prefix: string): Promise<OutboxFixture> {
  const t = await createTestDatabase(prefix);
  const audit = new AuditLog(t.db, 'outbox-test-audit-key');
  const outbox = new StatusEventOutbox(t.db, audit);
  const webhooks = new TenantWebhooks(t.db, KEY);
  const { secret } = await webhooks.set(TENANT);
  const receiver = await startTestReceiver(() => secret);
  const senders: CallbackSender[] = [];
  const results: CallbackResult[] = [];
  return {
    t,
    audit,
    outbox,
    webhooks,
    receiver,
    results,
    sender(o = {}) {
      const s = new CallbackSender({
        outbox,
        secrets: webhooks,
        logger: pino({ level: 'silent' }),
        meter: { counted: (r) => results.push(r) },
        onUndeliverable: (e, error) => auditUndeliverable(t.db, audit, e, error),
        timeoutMs: 2000,
        connectTimeoutMs: 1000,
        retryForMs: 60_000,
        retryBaseMs: 100,
        retryMaxMs: 300,
        // The test receivers listen on loopback.
        privateTargets: { allowAll: true, allowed: [] },
        pollMs: 50,
        concurrency: 4,
        concurrencyPerTenant: 4,
        ...o,
      });
      senders.push(s);
      s.start();
      return s;
    },
    async reset() {
      await Promise.all(senders.splice(0).map((s) => s.stop()));
      receiver.status = 204;
      results.length = 0;
    },
    async close() {
      await receiver.stop();
      await t.drop();
    },
  };
}
