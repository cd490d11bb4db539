// Webhook authenticity: what the sandbox hub posts verifies, anything forged or mangled does
// not, and RBM's configuration handshake is answered only for our own clientToken.

import assert from 'node:assert/strict';
import { request } from 'undici';
import { parseRetryAfter } from '../../channels/rcs/classify';
import { RcsWebhookSignatureError } from '../../channels/rcs/errors';
import type { RbmHubClient } from '../../channels/rcs/rbm-client';
import type { RcsEvent } from '../../channels/rcs/types';
import { processRbmWebhookPost, signRbmEventBody, verifyAndDecodeRbmEvent } from '../../channels/rcs/webhook';
import type { SandboxRcsHub } from '../../sandbox/rcs-hub';
import { AGENT_ID, CLIENT_TOKEN, startHub, startReceiver, waitFor } from './rcs-helpers';
import type { Receiver } from './rcs-helpers';

const PLAIN = '+15550200001';

const event: RcsEvent = {
  agentId: AGENT_ID,
  senderPhoneNumber: PLAIN,
  eventType: 'DELIVERED',
  eventId: 'ev-1',
  messageId: 'm-1',
  sendTime: new Date().toISOString(),
};

function signatureError(reason: string) {
  return (err: unknown): boolean => err instanceof RcsWebhookSignatureError && err.reason === reason;
}

async function post(url: string, body: string, signature?: string): Promise<number> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'x-goog-signature': signature } : {}) },
    body,
  });
  await res.body.dump();
  return res.statusCode;
}

describe('RBM webhook', () => {
  let hub: SandboxRcsHub;
  let client: RbmHubClient;
  let receiver: Receiver;

  before(async () => {
    receiver = await startReceiver();
    ({ hub, client } = await startHub({ webhookUrl: receiver.url, webhookBackoffMs: 20 }));
  });
  after(async () => {
    await hub.stop();
    await receiver.stop();
  });

  it('receives a DELIVERED event from the hub with a valid signature', async () => {
    await client.sendMessage(PLAIN, 'wh-1', { text: 'hello' });
    await waitFor('delivery', () => receiver.events.some((e) => e.messageId === 'wh-1'));
    const got = receiver.events.find((e) => e.messageId === 'wh-1');
    assert.equal(got?.eventType, 'DELIVERED');
    assert.equal(got?.senderPhoneNumber, PLAIN);
    assert.equal(got?.agentId, AGENT_ID);
    assert.deepEqual(receiver.rejected, []);
  });

  it('retries the webhook POST when the receiver fails, and delivers once', async () => {
    receiver.failNext = 2;
    await client.sendMessage(PLAIN, 'wh-2', { text: 'hello' });
    await waitFor('delivery', () => receiver.events.some((e) => e.messageId === 'wh-2'));
    assert.equal(receiver.events.filter((e) => e.messageId === 'wh-2').length, 1);
    assert.ok(hub.stats.webhookFailures >= 2);
  });

  it('rejects a forged signature over HTTP with 401', async () => {
    const { body } = signRbmEventBody(event, 'someone-elses-token');
    const forged = signRbmEventBody(event, 'someone-elses-token').signature;
    assert.equal(await post(receiver.url, body, forged), 401);
    assert.equal(await post(receiver.url, body), 401);
    assert.deepEqual(receiver.rejected.slice(-2), ['bad signature', 'missing signature']);
  });

  it('verifies and decodes a signed body, and refuses tampering', () => {
    const { body, signature } = signRbmEventBody(event, CLIENT_TOKEN);
    assert.deepEqual(verifyAndDecodeRbmEvent(body, signature, CLIENT_TOKEN), event);
    assert.deepEqual(verifyAndDecodeRbmEvent(Buffer.from(body), [signature], CLIENT_TOKEN), event);

    const other = signRbmEventBody({ ...event, eventType: 'READ' }, CLIENT_TOKEN);
    assert.throws(
      () => verifyAndDecodeRbmEvent(other.body, signature, CLIENT_TOKEN),
      signatureError('bad signature'),
    );
    assert.throws(() => verifyAndDecodeRbmEvent(body, 'AAAA', CLIENT_TOKEN), signatureError('bad signature'));
    assert.throws(
      () => verifyAndDecodeRbmEvent(body, undefined, CLIENT_TOKEN),
      signatureError('missing signature'),
    );
    assert.throws(
      () => verifyAndDecodeRbmEvent('{not json', signature, CLIENT_TOKEN),
      signatureError('malformed body'),
    );
    assert.throws(
      () => verifyAndDecodeRbmEvent('{"message":{}}', signature, CLIENT_TOKEN),
      signatureError('malformed body'),
    );
  });

  it('acknowledges but ignores a genuine user message, which is not a receipt', () => {
    const reply = {
      senderPhoneNumber: PLAIN,
      messageId: 'u-1',
      sendTime: event.sendTime,
      text: 'STOP',
      agentId: AGENT_ID,
    };
    const { body, signature } = signRbmEventBody(reply, CLIENT_TOKEN);
    assert.deepEqual(processRbmWebhookPost(body, signature, CLIENT_TOKEN), {
      kind: 'ignored',
      reason: 'user message',
    });
    assert.throws(
      () => verifyAndDecodeRbmEvent(body, signature, CLIENT_TOKEN),
      signatureError('not a receipt event'),
    );
  });

  it('answers the configuration handshake only for its own clientToken', async () => {
    assert.equal(await hub.verifyWebhook('s3cret-123'), true);
    assert.equal(receiver.handshakes, 1);
    const forged = JSON.stringify({ clientToken: 'wrong', secret: 'x' });
    assert.throws(
      () => processRbmWebhookPost(forged, undefined, CLIENT_TOKEN),
      signatureError('handshake client token mismatch'),
    );
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter(undefined, now), null);
  });
});
