import assert from 'node:assert/strict';
import type { MediaAttachment } from '../../domain/message';
import { auditEvents, deliver, messageRequest, workflowTier } from './workflow-tier';

// Kept apart: the media input is about to become a reference, and only this file knows its shape.
const MEDIA: MediaAttachment = {
  data: Buffer.from('a small ticket').toString('base64'),
  contentType: 'image/png',
  fileName: 'ticket.png',
};

describe('workflow tier: media behind a secure link', function () {
  before(async function () {
    this.timeout(120_000);
    await workflowTier();
  });

  it('creates a shortlink for the media and sends the text with the link in it', async () => {
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
});
