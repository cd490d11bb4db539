import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { workflowIdFor } from '../domain/message';
import { deliverMessage } from '../workflows';
import { AuditLog } from '../store/audit-log';
import { DeliveryChannelKey, DeliveryStateKey, FallbackReasonKey } from '../workflows/definitions';
import { TEST_SECRETS, stack } from './fixtures/stack';
import { SCENARIOS } from './scenarios';

describe('deliverMessage over the sandbox carriers', function () {
  this.timeout(30_000);

  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: ${scenario.to.slice(0, 8)}… → ${scenario.expect.status} over ${scenario.expect.channel ?? 'nothing'}`, async () => {
      const { switchboard, client, db } = stack();
      const sent = await switchboard.send({ to: scenario.to, text: `hello from ${scenario.name}` });
      const outcome = await switchboard.waitForOutcome(sent.messageId);

      assert.equal(outcome.status, scenario.expect.status);
      assert.equal(outcome.channel, scenario.expect.channel);
      assert.equal(outcome.fallbackReason, scenario.expect.fallbackReason);
      assert.deepEqual(
        outcome.attempts.map(({ channel, result, errorCode }) => ({ channel, result, errorCode })),
        scenario.expect.attempts,
      );
      assert.equal(outcome.workflowId, `deliver-${sent.messageId}`);
      assert.ok(outcome.timings.totalMs >= outcome.timings.probeMs);

      const description = await client.workflow.getHandle(sent.workflowId).describe();
      const attrs = description.typedSearchAttributes;
      assert.equal(
        attrs.get(DeliveryStateKey),
        scenario.expect.status === 'delivered' ? 'delivered' : 'failed',
      );
      if (scenario.expect.channel) assert.equal(attrs.get(DeliveryChannelKey), scenario.expect.channel);
      assert.equal(attrs.get(FallbackReasonKey), scenario.expect.fallbackReason ?? undefined);

      const trail = await new AuditLog(db, TEST_SECRETS.auditHashKey).forMessage(sent.messageId);
      assert.deepEqual(
        trail.map((r) => r.seq),
        trail.map((_, i) => i),
        'audit rows are numbered without gaps',
      );
      assert.equal(trail[0]?.event, 'received');
      assert.equal(trail[1]?.event, 'routed');
      assert.equal(trail.at(-1)?.event, scenario.expect.status === 'delivered' ? 'completed' : 'failed');
      const attemptRows = trail.filter((r) =>
        ['attempt', 'revoked', 'delivered', 'receipt'].includes(r.event),
      );
      assert.deepEqual(
        attemptRows.map((r) => [r.channel, r.result, r.errorCode]),
        scenario.expect.attempts.map((a) => [a.channel, a.result, a.errorCode]),
      );
      const raw = JSON.stringify(trail);
      assert.ok(
        !raw.includes(scenario.to) && !raw.includes(scenario.to.slice(1)),
        'no recipient number in the audit trail',
      );
      assert.ok(!raw.includes('hello from'), 'no message text in the audit trail');
    });
  }

  it('the same idempotency key starts one message, however often it is sent', async () => {
    const { switchboard } = stack();
    const key = `order-${Date.now()}`;
    const first = await switchboard.send({ to: '+15550200001', text: 'once', idempotencyKey: key });
    const second = await switchboard.send({ to: '+15550200001', text: 'once', idempotencyKey: key });
    assert.equal(second.messageId, first.messageId);
    assert.equal(first.started, true);
    assert.equal(second.started, false);
    assert.equal((await switchboard.waitForOutcome(first.messageId)).channel, 'rcs');
    const third = await switchboard.send({ to: '+15550200001', text: 'once', idempotencyKey: key });
    assert.equal(third.started, false, 'a finished message is not sent again either');
  });

  it('status shows a running message as pending with its step, then its outcome', async () => {
    const { switchboard } = stack();
    // Offline phone: the workflow sits in awaiting-rcs-receipt for the receipt timeout.
    const sent = await switchboard.send({ to: '+15550500002', text: 'where are you' });
    let live = await switchboard.status(sent.messageId);
    for (let i = 0; i < 50 && live.step !== 'awaiting-rcs-receipt'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      live = await switchboard.status(sent.messageId);
    }
    assert.equal(live.status, 'pending');
    assert.equal(live.step, 'awaiting-rcs-receipt');
    await switchboard.waitForOutcome(sent.messageId);
    const done = await switchboard.status(sent.messageId);
    assert.equal(done.status, 'delivered');
    assert.equal(done.channel, 'sms');
  });

  it('e2ee=required without an MLS sender: only the notice goes out, and the sender is told why', async () => {
    const { switchboard, carriers } = stack();
    const to = '+15550300010';
    const sent = await switchboard.send({
      to,
      text: 'secret-marker-e2ee',
      e2ee: 'required',
      notice: 'Open the app',
    });
    assert.equal(sent.encrypted, false);
    assert.equal(sent.e2eeError, 'NO_SENDER');
    const outcome = await switchboard.waitForOutcome(sent.messageId);
    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.fallbackReason, 'e2ee_unavailable');
    assert.equal(outcome.e2ee, false);
    const got = carriers.smsc.received.filter((m) => m.destination.endsWith(to.slice(1)));
    assert.deepEqual(
      got.map((m) => m.text),
      ['Open the app'],
    );
  });

  it('a required message whose text is not a notice is never sent (defence in depth)', async () => {
    const { client, taskQueue } = stack();
    const messageId = randomUUID();
    const outcome = await client.workflow.execute(deliverMessage, {
      taskQueue,
      workflowId: workflowIdFor(messageId),
      args: [
        {
          messageId,
          to: '+15550100003',
          text: 'plaintext',
          flow: 'standard',
          e2ee: 'required',
          tenant: 'default',
          region: 'us',
          submittedAt: new Date().toISOString(),
        },
      ],
    });
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.fallbackReason, 'e2ee_unavailable');
    assert.deepEqual(outcome.attempts, []);
  });

  it('critical flow sends SMS even to an RCS number', async () => {
    const { switchboard } = stack();
    const sent = await switchboard.send({ to: '+15550100004', text: 'code 123456', flow: 'critical' });
    const outcome = await switchboard.waitForOutcome(sent.messageId);
    assert.equal(outcome.channel, 'sms');
    assert.equal(outcome.fallbackReason, 'critical_sms_first');
    assert.equal(outcome.authoritative, 'sms');
  });
});
