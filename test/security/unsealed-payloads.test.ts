// Anyone who reaches the Temporal frontend can start a workflow or send a signal with plain JSON.
// The worker's codec refuses what it did not seal: such a start sends nothing and fails as
// refused with a typed reason; such a signal is dropped and logged without its content.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { DeliveryRequest } from '../../domain/message';
import { workflowIdFor } from '../../domain/message';
import { REQUEST_REFUSED } from '../../domain/refused-payload';
import type { deliverMessage } from '../../workflows';
import { rcsEventSignal } from '../../workflows/definitions';
import { stack, workerLog } from '../fixtures/stack';

function plainRequest(to: string, overrides: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return {
    messageId: randomUUID(),
    to,
    text: 'forged',
    flow: 'standard',
    e2ee: 'off',
    tenant: 'default',
    region: 'us',
    submittedAt: new Date().toISOString(),
    ...overrides,
  };
}

describe('security: payloads the worker did not seal', function () {
  this.timeout(60_000);

  it('a plain-JSON start is refused with a typed reason and sends nothing', async () => {
    const { temporal, taskQueue, carriers, euCarriers } = stack();
    const raw = new Client({ connection: temporal.connection }); // no codec: an attacker's client
    const to = '+447700900123';
    const request = plainRequest(to, { region: 'us' });
    const smsBefore = carriers.smsc.submits.length + euCarriers.smsc.submits.length;
    const rcsBefore = carriers.rcsHub.stats.sends + euCarriers.rcsHub.stats.sends;
    const handle = await raw.workflow.start<typeof deliverMessage>('deliverMessage', {
      taskQueue,
      workflowId: workflowIdFor(request.messageId),
      args: [request],
    });
    // Read back as the operator does, with the codec.
    const err = await stack()
      .client.workflow.getHandle<typeof deliverMessage>(handle.workflowId)
      .result()
      .then(
        () => assert.fail('the forged start must not complete'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, REQUEST_REFUSED);
    assert.equal(err.cause.nonRetryable, true);
    assert.equal(carriers.smsc.submits.length + euCarriers.smsc.submits.length, smsBefore, 'no SMS went out');
    assert.equal(carriers.rcsHub.stats.sends + euCarriers.rcsHub.stats.sends, rcsBefore, 'no RCS went out');
    const history = await raw.workflow.getHandle(handle.workflowId).fetchHistory();
    const scheduled = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes || e.markerRecordedEventAttributes,
    );
    assert.equal(scheduled.length, 0, 'no activity ran for the refused start');
  });

  it('a plain rcsEvent DELIVERED signal does not suppress the fallback of an offline phone', async () => {
    const { switchboard, temporal } = stack();
    const to = '+15550500777'; // RCS, phone offline: never a receipt; SMS delivers
    const sent = await switchboard.send({ to, text: 'offline phone' });
    const raw = new Client({ connection: temporal.connection });
    const logLinesBefore = workerLog.length;
    // The attacker guesses the RBM id (the message id) and claims delivery, unsealed.
    await raw.workflow.getHandle(sent.workflowId).signal(rcsEventSignal, {
      rbmMessageId: sent.messageId,
      eventType: 'DELIVERED',
      eventId: randomUUID(),
    });
    const outcome = await switchboard.waitForOutcome(sent.messageId);
    assert.equal(outcome.channel, 'sms');
    assert.equal(outcome.fallbackReason, 'rcs_receipt_timeout');
    const logged = workerLog.slice(logLinesBefore).join('');
    assert.match(logged, /signal refused/);
    assert.match(logged, /UNSEALED_PAYLOAD/);
    assert.ok(!logged.includes(to.slice(1)), 'the refusal log carries no number');
  });
});
