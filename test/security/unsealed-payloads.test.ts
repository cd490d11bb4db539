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

/** Starts a deliverMessage as given and returns the failure it ended with. */
async function refusalOf(client: Client, taskQueue: string, request: unknown): Promise<ApplicationFailure> {
  const messageId = (request as { messageId?: string }).messageId ?? randomUUID();
  const handle = await client.workflow.start<typeof deliverMessage>('deliverMessage', {
    taskQueue,
    workflowId: workflowIdFor(`${messageId}-${randomUUID().slice(0, 8)}`),
    args: [request as DeliveryRequest],
  });
  const err = await stack()
    .client.workflow.getHandle<typeof deliverMessage>(handle.workflowId)
    .result()
    .then(
      () => assert.fail('a forged start must not complete'),
      (e: unknown) => e,
    );
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
  return err.cause;
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

  it('a sealed start is checked again field by field: each forgery is refused, naming its field, and sends nothing', async () => {
    // Sealed with the codec key: what a client holding the key (or a bug in one) could start.
    const { client, taskQueue, carriers, euCarriers } = stack();
    const forgeries: Array<[string, unknown]> = [
      ['region', plainRequest('+447700900124', { region: 'us' })], // a +44 number out through the us SMSC
      ['text', plainRequest('+15550300124', { text: 'x'.repeat(3000) })], // 20 SMS parts
      ['to', plainRequest('+1555', {})],
      ['flow', plainRequest('+15550300125', { flow: 'bulk' as never })],
      ['tenant', plainRequest('+15550300126', { tenant: 'Other Tenant' })],
      ['messageId', plainRequest('+15550300127', { messageId: 'otp-+15550300127' })],
      ['rcsCopy', plainRequest('+15550300128', { rcsCopy: true })],
      ['textIsNotice', plainRequest('+15550300129', { textIsNotice: true })],
      [
        'e2eePayload',
        plainRequest('+15550300130', {
          e2eePayload: { ciphertext: 'AA==', negotiationMs: 1, newGroup: false },
        }),
      ],
      [
        'media.mediaId',
        plainRequest('+15550300131', {
          media: { mediaId: '../etc', contentType: 'image/png', fileName: 'a.png', bytes: 1 },
        }),
      ],
      ['request', { ...plainRequest('+15550300132'), extra: 'field' }],
    ];
    const smsBefore = carriers.smsc.submits.length + euCarriers.smsc.submits.length;
    const rcsBefore = carriers.rcsHub.stats.sends + euCarriers.rcsHub.stats.sends;
    for (const [field, request] of forgeries) {
      const refusal = await refusalOf(client, taskQueue, request);
      assert.equal(refusal.type, REQUEST_REFUSED, field);
      assert.equal(refusal.nonRetryable, true, field);
      assert.equal((refusal.details?.[0] as { field?: string } | undefined)?.field, field);
      assert.ok(!refusal.message.includes('0300'), 'the refusal names the field, never the number');
    }
    assert.equal(carriers.smsc.submits.length + euCarriers.smsc.submits.length, smsBefore, 'no SMS went out');
    assert.equal(carriers.rcsHub.stats.sends + euCarriers.rcsHub.stats.sends, rcsBefore, 'no RCS went out');
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
