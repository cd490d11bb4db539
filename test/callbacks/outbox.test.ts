// The outbox on a real PostgreSQL: which audit writes make events, how they are numbered, and
// read receipts (held for the outcome, retried while the message's first rows are not written).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ReadBeforeTrackedError, withReadEvents } from '../../channels/callbacks/read-events';
import type { ReceiptSink, SignalOutcome } from '../../channels/receipts/receipt-dispatcher';
import type { AuditEntry } from '../../domain/audit';
import { context, delivered, startOutboxFixture } from './outbox-fixture';
import type { OutboxFixture } from './outbox-fixture';

describe('status events outbox', function () {
  this.timeout(30_000);
  let f: OutboxFixture;

  before(async () => {
    f = await startOutboxFixture('callbacks_outbox');
  });
  afterEach(() => f.reset());
  after(() => f.close());

  it('writes events only for new audit rows: a retried write adds none', async () => {
    const m = randomUUID();
    await f.outbox.append(context(f.receiver.url), delivered(m));
    const again = await f.outbox.append(context(f.receiver.url), delivered(m));
    assert.equal(again.length, 0, 'the retried write inserted no audit row');
    assert.deepEqual(await f.outbox.forMessage(m), [
      { seq: 1, status: 'accepted', state: 'pending' },
      { seq: 2, status: 'delivered', state: 'pending' },
    ]);
  });

  it('a tenant without a webhook, or without any URL, gets no events', async () => {
    const m = randomUUID();
    await f.outbox.append({ ...context(f.receiver.url), tenant: 'no-webhook-tenant' }, delivered(m));
    const n = randomUUID();
    await f.outbox.append(context(), delivered(n));
    assert.deepEqual(await f.outbox.forMessage(m), []);
    assert.deepEqual(await f.outbox.forMessage(n), [], 'no statusCallbackUrl and no default URL');
  });

  it('a read receipt before the outcome waits for it, and is numbered after it', async () => {
    const m = randomUUID();
    const [received, routed, completed] = delivered(m);
    assert.equal(await f.outbox.recordRead(m, new Date()), 'untracked', 'nothing known of the message yet');
    await f.outbox.append(context(f.receiver.url), [received as AuditEntry, routed as AuditEntry]);
    assert.equal(await f.outbox.recordRead(m, new Date()), 'held');
    assert.equal(await f.outbox.recordRead(m, new Date()), 'duplicate', 'RBM may repeat READ');
    await f.outbox.append(context(f.receiver.url), [completed as AuditEntry]);
    assert.deepEqual(
      (await f.outbox.forMessage(m)).map((e) => [e.seq, e.status]),
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
    const reads = withReadEvents(sink, f.outbox);
    const m = randomUUID();
    const read = { rbmMessageId: m, eventType: 'READ', eventId: randomUUID(), errorCode: null };
    await assert.rejects(reads.rcsEvent(`deliver-${m}`, read), ReadBeforeTrackedError);
    assert.equal(signalled.length, 1, 'the workflow got the signal first');
    await f.outbox.append(context(f.receiver.url), delivered(m));
    assert.equal(
      await reads.rcsEvent(`deliver-${m}`, read),
      'delivered',
      'the dispatcher’s retry records it',
    );
    assert.deepEqual(
      (await f.outbox.forMessage(m)).map((e) => e.status),
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
    assert.deepEqual(await f.outbox.forMessage(none), []);
  });
});
