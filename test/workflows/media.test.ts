import assert from 'node:assert/strict';
import type { MediaRef } from '../../domain/message';
import { UNKNOWN_MEDIA_ID } from './stub-activities';
import { auditEvents, deliver, messageRequest, workflowTier } from './workflow-tier';

// The workflow only ever holds a reference to an upload (the claim check), never the file.
const MEDIA: MediaRef = {
  mediaId: 'a'.repeat(24),
  contentType: 'image/png',
  fileName: 'ticket.png',
  bytes: 14,
};

describe('workflow tier: media behind a secure link', function () {
  before(async function () {
    this.timeout(120_000);
    await workflowTier();
  });

  it('creates a shortlink for the uploaded media and sends the text with the link in it', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({ to: '+15550300201', text: 'Your ticket', media: MEDIA });
    const outcome = await deliver(request);

    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.channel, 'sms');
    assert.equal(outcome.shortlink, true);
    const calls = carrier.calls(request.messageId);
    const link = calls.find((c) => c.name === 'createShortlink');
    assert.deepEqual(link, { name: 'createShortlink', region: 'us', media: MEDIA });
    const sms = calls.find((c) => c.name === 'sendSms');
    assert.equal(
      sms?.name === 'sendSms' && sms.text,
      `Your ticket https://links.test/s/${request.messageId.slice(0, 8)}`,
    );
    assert.deepEqual(auditEvents(carrier, request.messageId), [
      'received',
      'routed',
      'shortlink',
      'accepted',
      'delivered',
      'completed',
    ]);
  });

  it('an upload the store does not hold: the text goes out without a link, the trail says why', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({
      to: '+15550300202',
      text: 'Your ticket',
      media: { ...MEDIA, mediaId: UNKNOWN_MEDIA_ID },
    });
    const outcome = await deliver(request);

    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.shortlink, false);
    const sms = carrier.calls(request.messageId).find((c) => c.name === 'sendSms');
    assert.equal(sms?.name === 'sendSms' && sms.text, 'Your ticket');
    const row = carrier.audit(request.messageId).find((r) => r.event === 'shortlink');
    assert.equal(row?.result, 'failed');
    assert.equal(row?.errorCode, 'MEDIA_NOT_FOUND');
  });
});
