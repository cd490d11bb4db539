// The outbox and the sender on a real PostgreSQL and real HTTP sockets, without Temporal: the
// audit writes the delivery activities make, then what the sender does with their events.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { CallbackSender } from '../../channels/callbacks/callback-sender';
import type { CallbackResult, CallbackSenderOptions } from '../../channels/callbacks/callback-sender';
import { isPrivateAddress } from '../../channels/callbacks/address-guard';
import { ReadBeforeTrackedError, withReadEvents } from '../../channels/callbacks/read-events';
import type { ReceiptSink, SignalOutcome } from '../../channels/receipts/receipt-dispatcher';
import type { AuditContext, AuditEntry } from '../../domain/audit';
import { AuditLog } from '../../store/audit-log';
import { StatusEventOutbox } from '../../store/status-events';
import { TenantWebhooks } from '../../store/tenant-webhooks';
import { CALLBACK_AUDIT_LANE } from '../../workers/status-callbacks';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';
import { startTestReceiver, waitUntil } from './receiver';
import type { TestReceiver } from './receiver';

const KEY = 'ab'.repeat(32);
const TENANT = 'outbox-tenant';

const context = (url?: string): AuditContext => ({
  tenant: TENANT,
  recipient: '+15550200777',
  region: 'us',
  flow: 'standard',
  ...(url ? { statusCallbackUrl: url } : {}),
});

const row = (messageId: string, seq: number, event: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
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
const delivered = (m: string) => [
  row(m, 0, 'received'),
  row(m, 1, 'routed', { channel: 'rcs' }),
  row(m, 2, 'completed', { channel: 'rcs', result: 'delivered' }),
];

describe('status events outbox and sender', function () {
  this.timeout(30_000);
  let t: TestDatabase;
  let outbox: StatusEventOutbox;
  let audit: AuditLog;
  let secret: string;
  let receiver: TestReceiver;
  const senders: CallbackSender[] = [];
  const results: CallbackResult[] = [];

  const sender = (o: Partial<CallbackSenderOptions> = {}) => {
    const s = new CallbackSender({
      outbox,
      secrets: new TenantWebhooks(t.db, KEY),
      logger: pino({ level: 'silent' }),
      meter: { counted: (r) => results.push(r) },
      onUndeliverable: async (e, error) => {
        await audit.append(context(), [
          row(e.event.messageId, CALLBACK_AUDIT_LANE + e.event.sequence, 'callback_undeliverable', {
            errorCode: error,
          }),
        ]);
      },
      timeoutMs: 2000,
      retryForMs: 60_000,
      retryBaseMs: 100,
      retryMaxMs: 300,
      allowPrivateHosts: true,
      pollMs: 50,
      concurrency: 4,
      ...o,
    });
    senders.push(s);
    s.start();
    return s;
  };

  before(async () => {
    t = await createTestDatabase('callbacks_outbox');
    audit = new AuditLog(t.db, 'outbox-test-audit-key');
    outbox = new StatusEventOutbox(t.db, audit);
    receiver = await startTestReceiver(() => secret);
    ({ secret } = await new TenantWebhooks(t.db, KEY).set(TENANT));
  });

  afterEach(async () => {
    await Promise.all(senders.splice(0).map((s) => s.stop()));
    receiver.status = 204;
    results.length = 0;
  });

  after(async () => {
    await receiver.stop();
    await t.drop();
  });

  it('writes events only for new audit rows: a retried write adds none', async () => {
    const m = randomUUID();
    await outbox.append(context(receiver.url), delivered(m));
    const again = await outbox.append(context(receiver.url), delivered(m));
    assert.equal(again.length, 0, 'the retried write inserted no audit row');
    assert.deepEqual(await outbox.forMessage(m), [
      { seq: 1, status: 'accepted', state: 'pending' },
      { seq: 2, status: 'delivered', state: 'pending' },
    ]);
  });

  it('a tenant without a webhook, or without any URL, gets no events', async () => {
    const m = randomUUID();
    await outbox.append({ ...context(receiver.url), tenant: 'no-webhook-tenant' }, delivered(m));
    const n = randomUUID();
    await outbox.append(context(), delivered(n));
    assert.deepEqual(await outbox.forMessage(m), []);
    assert.deepEqual(await outbox.forMessage(n), [], 'no statusCallbackUrl and no default URL');
  });

  it('a read receipt before the outcome waits for it, and is numbered after it', async () => {
    const m = randomUUID();
    const [received, routed, completed] = delivered(m);
    assert.equal(await outbox.recordRead(m, new Date()), 'untracked', 'nothing known of the message yet');
    await outbox.append(context(receiver.url), [received as AuditEntry, routed as AuditEntry]);
    assert.equal(await outbox.recordRead(m, new Date()), 'held');
    assert.equal(await outbox.recordRead(m, new Date()), 'duplicate', 'RBM may repeat READ');
    await outbox.append(context(receiver.url), [completed as AuditEntry]);
    assert.deepEqual(
      (await outbox.forMessage(m)).map((e) => [e.seq, e.status]),
      [
        [1, 'accepted'],
        [2, 'delivered'],
        [3, 'read'],
      ],
    );
  });

  it('a READ for a running message whose events are not written yet is retried, not lost', async () => {
    const signalled: string[] = [];
    let outcome: SignalOutcome = 'delivered';
    const sink: ReceiptSink = {
      rcsEvent: (workflowId) => {
        signalled.push(workflowId);
        return Promise.resolve(outcome);
      },
      smsReceipt: () => Promise.resolve('delivered'),
    };
    const reads = withReadEvents(sink, outbox);
    const m = randomUUID();
    const read = { rbmMessageId: m, eventType: 'READ', eventId: randomUUID(), errorCode: null };
    await assert.rejects(reads.rcsEvent(`deliver-${m}`, read), ReadBeforeTrackedError);
    assert.equal(signalled.length, 1, 'the workflow got the signal first');
    await outbox.append(context(receiver.url), delivered(m));
    assert.equal(
      await reads.rcsEvent(`deliver-${m}`, read),
      'delivered',
      'the dispatcher’s retry records it',
    );
    assert.deepEqual(
      (await outbox.forMessage(m)).map((e) => e.status),
      ['accepted', 'delivered', 'read'],
    );
    outcome = 'closed';
    const none = randomUUID();
    const untracked = { ...read, rbmMessageId: none };
    assert.equal(
      await reads.rcsEvent(`deliver-${none}`, untracked),
      'closed',
      'a finished message without callbacks',
    );
    assert.deepEqual(await outbox.forMessage(none), []);
  });

  it('sends each message’s events in order, signed, once acknowledged', async () => {
    const messages = [randomUUID(), randomUUID(), randomUUID()];
    for (const m of messages) await outbox.append(context(receiver.url), delivered(m));
    sender();
    await waitUntil('every event', () => messages.every((m) => receiver.forMessage(m).length === 2), 10_000);
    for (const m of messages) {
      assert.deepEqual(
        receiver.forMessage(m).map((e) => [e.sequence, e.status]),
        [
          [1, 'accepted'],
          [2, 'delivered'],
        ],
      );
      assert.deepEqual(
        (await outbox.forMessage(m)).map((e) => e.state),
        ['sent', 'sent'],
      );
    }
    assert.equal(receiver.invalid, 0);
  });

  it('two senders share the outbox without sending an event twice; a dead sender’s claim is taken again', async () => {
    const messages = Array.from({ length: 12 }, () => randomUUID());
    for (const m of messages) await outbox.append(context(receiver.url), delivered(m));
    // A sender that claimed one message's first event and died before sending it.
    const [orphan] = await outbox.claim(1, 1500);
    assert.ok(orphan);
    sender();
    sender();
    await waitUntil(
      'every event, the orphan after its lease',
      () => messages.every((m) => receiver.forMessage(m).length === 2),
      15_000,
    );
    for (const m of messages) {
      assert.deepEqual(
        receiver.forMessage(m).map((e) => e.sequence),
        [1, 2],
        'once each, in order',
      );
    }
  });

  it('gives an event up once the retry budget is spent, audits it, then sends the next', async () => {
    const m = randomUUID();
    await outbox.append(context(receiver.url), delivered(m));
    receiver.status = 503;
    sender({ retryForMs: 1500 });
    await waitUntil(
      'the first event given up on',
      async () => (await outbox.forMessage(m))[0]?.state === 'undeliverable',
      10_000,
    );
    assert.ok(results.filter((r) => r === 'failed').length >= 2, 'it was retried before giving up');
    assert.ok(results.includes('undeliverable'));
    const trail = await audit.forMessage(m);
    const given = trail.find((r) => r.event === 'callback_undeliverable');
    assert.equal(given?.seq, CALLBACK_AUDIT_LANE + 1);
    assert.equal(given?.errorCode, 'HTTP_503');
    // Event 2 goes next (its budget ran out too: written with event 1, it gets one attempt).
    await waitUntil(
      'the second event settled',
      async () => (await outbox.forMessage(m))[1]?.state !== 'pending',
      10_000,
    );
    assert.equal(receiver.forMessage(m).length, 0, 'the receiver accepted nothing while it answered 503');
  });

  it('refuses callback URLs to loopback, private and link-local addresses unless allowed', async () => {
    const hitsBefore = receiver.hits;
    const byName = randomUUID();
    const byLiteral = randomUUID();
    await outbox.append(context(receiver.url.replace('127.0.0.1', 'localhost')), delivered(byName));
    await outbox.append(context(receiver.url), delivered(byLiteral));
    sender({ allowPrivateHosts: false });
    await waitUntil(
      'both refused',
      async () =>
        (await outbox.forMessage(byName)).every((e) => e.state === 'undeliverable') &&
        (await outbox.forMessage(byLiteral)).every((e) => e.state === 'undeliverable'),
      10_000,
    );
    assert.equal(receiver.hits, hitsBefore, 'no request reached the private address');
    assert.ok(results.filter((r) => r === 'refused').length >= 4, 'counted as refused');
    const { rows } = await t.db.query<{ last_error: string }>(
      'SELECT DISTINCT last_error FROM status_events WHERE message_id = ANY($1)',
      [[byName, byLiteral]],
    );
    assert.deepEqual(
      rows.map((r) => r.last_error),
      ['ADDRESS_REFUSED'],
    );
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '0.0.0.0',
      '100.64.0.1',
    ])
      assert.ok(isPrivateAddress(a), a);
    for (const a of ['8.8.8.8', '2001:4860:4860::8888', '93.184.216.34']) assert.ok(!isPrivateAddress(a), a);
  });
});
