// Status callbacks end to end: messages through the real stack (Temporal dev server, worker,
// sandbox carriers, PostgreSQL) with a statusCallbackUrl, and a real app endpoint receiving them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { signRbmEventBody } from '../../channels/rcs/webhook';
import { deriveKey } from '../../config/secrets';
import type { StatusEvent } from '../../domain/status-event';
import { TenantWebhooks } from '../../store/tenant-webhooks';
import { RBM_WEBHOOK_PATH } from '../../workers/receipts-server';
import { TEST_SECRETS, stack } from '../fixtures/stack';
import { startTestReceiver, waitUntil } from './receiver';
import type { TestReceiver } from './receiver';

const TENANT = 'callbacks-e2e';

const shape = (events: StatusEvent[]) =>
  events.map((e) => [e.sequence, e.status, e.channel, e.fallbackReason] as const);

/** What RBM posts when the phone shows the message as read. */
async function postRead(rbmMessageId: string): Promise<void> {
  const { env, worker } = stack();
  const event = {
    agentId: env.RCS_AGENT_ID,
    senderPhoneNumber: '+15550200001',
    eventType: 'READ',
    eventId: randomUUID(),
    messageId: rbmMessageId,
    sendTime: new Date().toISOString(),
  };
  const { body, signature } = signRbmEventBody(event, env.RCS_WEBHOOK_CLIENT_TOKEN);
  const res = await request(`${worker.receiptsUrl}${RBM_WEBHOOK_PATH}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-goog-signature': signature },
  });
  await res.body.dump();
  assert.equal(res.statusCode, 200);
}

describe('status callbacks through the stack', function () {
  this.timeout(120_000);
  let secret = '';
  let receiver: TestReceiver;

  const send = async (to: string, url = receiver.url) => {
    const { switchboard } = stack();
    const sent = await switchboard.send({
      to,
      text: 'callback test',
      tenant: TENANT,
      statusCallbackUrl: url,
    });
    return sent.messageId;
  };

  before(async () => {
    ({ secret } = await new TenantWebhooks(stack().db, deriveKey(TEST_SECRETS, 'webhook-secrets')).set(
      TENANT,
    ));
    receiver = await startTestReceiver(() => secret);
  });

  after(() => receiver.stop());

  it('a delivered RCS message, then its read receipt: accepted, delivered, read, signed and in order', async () => {
    const m = await send('+15550200001');
    const outcome = await stack().switchboard.waitForOutcome(m);
    assert.equal(outcome.channel, 'rcs');
    await waitUntil('accepted and delivered', () => receiver.forMessage(m).length === 2, 15_000);
    await postRead(m);
    await waitUntil('read', () => receiver.forMessage(m).length === 3, 15_000);
    assert.deepEqual(shape(receiver.forMessage(m)), [
      [1, 'accepted', null, null],
      [2, 'delivered', 'rcs', null],
      [3, 'read', 'rcs', null],
    ]);
    const ids = receiver.forMessage(m).map((e) => e.eventId);
    assert.equal(new Set(ids).size, 3, 'every event has an id of its own');
    assert.equal(receiver.invalid, 0, 'every signature verified');
  });

  it('an SMS fallback: accepted, fell back with its reason, delivered over SMS', async () => {
    const m = await send('+15550600001');
    await stack().switchboard.waitForOutcome(m);
    await waitUntil('three events', () => receiver.forMessage(m).length === 3, 15_000);
    assert.deepEqual(shape(receiver.forMessage(m)), [
      [1, 'accepted', null, null],
      [2, 'fell_back', 'sms', 'rcs_permanent_error'],
      [3, 'delivered', 'sms', 'rcs_permanent_error'],
    ]);
  });

  it('a failure: accepted, fell back, failed with the SMSC’s code', async () => {
    const m = await send('+15550700001');
    const outcome = await stack().switchboard.waitForOutcome(m);
    assert.equal(outcome.status, 'failed');
    await waitUntil('three events', () => receiver.forMessage(m).length === 3, 15_000);
    const events = receiver.forMessage(m);
    assert.deepEqual(shape(events), [
      [1, 'accepted', null, null],
      [2, 'fell_back', 'sms', 'not_rcs_capable'],
      [3, 'failed', null, 'not_rcs_capable'],
    ]);
    assert.equal(events[2]?.errorCode, 'UNDELIV:001');
    const raw = JSON.stringify(events);
    assert.ok(!raw.includes('5550700001') && !raw.includes('callback test'), 'no number, no text');
  });

  it('a receiver down for 60 s, then back on its port, gets every callback, each message in order', async function () {
    this.timeout(180_000);
    await receiver.stop();
    const plan = ['+15550200002', '+15550300002', '+15550600002', '+15550700002', '+15550200003'];
    const messages = await Promise.all(plan.map((to) => send(to)));
    await Promise.all(messages.map((m) => stack().switchboard.waitForOutcome(m)));
    const downFor = 60_000;
    await new Promise((r) => setTimeout(r, downFor));
    const { rows } = await stack().db.query<{ n: string }>(
      "SELECT count(*) AS n FROM status_events WHERE message_id = ANY($1) AND state = 'pending' AND attempts > 1",
      [messages],
    );
    assert.ok(Number(rows[0]?.n) >= messages.length, 'the sender kept retrying during the outage');
    await receiver.restart();
    const expected = [2, 3, 3, 3, 2];
    await waitUntil(
      'every callback after the outage',
      () => messages.every((m, i) => receiver.forMessage(m).length >= (expected[i] as number)),
      30_000,
    );
    for (const [i, m] of messages.entries()) {
      const seqs = receiver.forMessage(m).map((e) => e.sequence);
      assert.deepEqual(
        seqs,
        Array.from({ length: expected[i] as number }, (_, k) => k + 1),
        `message ${i}`,
      );
    }
  });

  it('a receiver that hangs does not delay the message’s outcome', async () => {
    const hanging = await startTestReceiver(() => secret);
    hanging.hang = true;
    // No receipt from the phone: revoke after RCS_RECEIPT_TIMEOUT_MS, then SMS. The first event
    // is POSTed at the start and hangs until the sender's timeout, well past the outcome.
    const slowPath = '+15550500001';
    try {
      const t0 = Date.now();
      await stack().switchboard.waitForOutcome(await send(slowPath));
      const baseline = Date.now() - t0;
      const started = Date.now();
      const m = await send(slowPath, hanging.url);
      const outcome = await stack().switchboard.waitForOutcome(m);
      const took = Date.now() - started;
      assert.equal(outcome.status, 'delivered');
      assert.ok(hanging.hits >= 1, 'the callback was hanging while the message went on');
      assert.equal(hanging.events.length, 0, 'and was not answered');
      assert.ok(
        took < baseline + 1000,
        `outcome in ${took} ms beside a hanging receiver (${baseline} ms without)`,
      );
    } finally {
      await hanging.stop();
    }
  });
});
