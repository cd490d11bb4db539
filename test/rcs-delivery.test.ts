import assert from 'node:assert/strict';
import { request } from 'undici';
import { signRbmEventBody } from '../channels/rcs/webhook';
import { AuditLog } from '../store/audit-log';
import { RBM_WEBHOOK_PATH } from '../workers/receipts-server';
import { TEST_SECRETS, stack } from './fixtures/stack';

async function postEvent(messageId: string, to: string, signWith: string): Promise<number> {
  const { env, worker } = stack();
  const { body, signature } = signRbmEventBody(
    {
      agentId: env.RCS_AGENT_ID,
      senderPhoneNumber: to,
      eventType: 'DELIVERED',
      eventId: `ev-${messageId}`,
      messageId,
      sendTime: new Date().toISOString(),
    },
    signWith,
  );
  const res = await request(`${worker.receiptsUrl}${RBM_WEBHOOK_PATH}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-goog-signature': signature },
  });
  await res.body.dump();
  return res.statusCode;
}

async function waitForStep(messageId: string, step: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await stack().switchboard.status(messageId)).step === step) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`message never reached ${step}`);
}

const smsSentTo = (to: string) =>
  stack().carriers.smsc.received.filter((m) => m.destination.endsWith(to.slice(1)));

describe('RCS behaviour through the workflow', function () {
  this.timeout(30_000);
  afterEach(() => {
    const { carriers, worker } = stack();
    carriers.rcsHub.reset();
    carriers.rcsHub.setWebhookUrl(`${worker.receiptsUrl}${RBM_WEBHOOK_PATH}`);
  });

  it('revoke answered 404 (the phone has it, its receipt was lost) → delivered over RCS, no SMS', async () => {
    const { switchboard, carriers } = stack();
    carriers.rcsHub.setWebhookUrl('http://127.0.0.1:9/lost-receipts');
    const to = '+15550200009';
    const sent = await switchboard.send({ to, text: 'receipt goes missing' });
    const outcome = await switchboard.waitForOutcome(sent.messageId);
    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.channel, 'rcs');
    assert.deepEqual(
      outcome.attempts.map((a) => a.result),
      ['delivered'],
    );
    assert.equal(smsSentTo(to).length, 0, 'no SMS was sent');
    assert.ok(carriers.rcsHub.requests.some((r) => r.op === 'revoke' && r.status === 404));
  });

  it('429 with Retry-After: the retry waits as told, then SMS takes over', async () => {
    const { switchboard, carriers } = stack();
    carriers.rcsHub.inject({ errorRates: { 429: 1 }, retryAfterSeconds: 1, onlyOps: ['send'] });
    const sent = await switchboard.send({ to: '+15550200010', text: 'slow down' });
    const outcome = await switchboard.waitForOutcome(sent.messageId);
    assert.deepEqual(
      outcome.attempts.map((a) => [a.channel, a.result, a.errorCode]),
      [
        ['rcs', 'failed', '429'],
        ['rcs', 'failed', '429'],
        ['sms', 'delivered', null],
      ],
    );
    assert.equal(outcome.fallbackReason, 'rcs_retries_exhausted');
    const gap = Date.parse(outcome.attempts[1]!.at) - Date.parse(outcome.attempts[0]!.at);
    assert.ok(gap >= 1000, `second attempt ${gap} ms after the first; Retry-After asked for 1000`);
  });

  it('duplicate DELIVERED events are harmless: one delivery, one outcome', async () => {
    const { switchboard, env } = stack();
    const to = '+15550500010'; // offline: only our events can deliver it
    const sent = await switchboard.send({ to, text: 'twice' });
    await waitForStep(sent.messageId, 'awaiting-rcs-receipt');
    assert.equal(await postEvent(sent.messageId, to, env.RCS_WEBHOOK_CLIENT_TOKEN), 200);
    assert.equal(await postEvent(sent.messageId, to, env.RCS_WEBHOOK_CLIENT_TOKEN), 200);
    const outcome = await switchboard.waitForOutcome(sent.messageId);
    assert.equal(outcome.channel, 'rcs');
    assert.deepEqual(
      outcome.attempts.map((a) => a.result),
      ['delivered'],
    );
    assert.equal(
      await postEvent(sent.messageId, to, env.RCS_WEBHOOK_CLIENT_TOKEN),
      200,
      'late duplicates too',
    );
    assert.equal(smsSentTo(to).length, 0);
  });

  it('a forged webhook signature is rejected (401) and changes nothing', async () => {
    const { switchboard } = stack();
    const to = '+15550500011';
    const sent = await switchboard.send({ to, text: 'forged' });
    await waitForStep(sent.messageId, 'awaiting-rcs-receipt');
    assert.equal(await postEvent(sent.messageId, to, 'not-the-client-token'), 401);
    const outcome = await switchboard.waitForOutcome(sent.messageId);
    assert.equal(outcome.channel, 'sms', 'the forged DELIVERED did not count');
    assert.equal(outcome.fallbackReason, 'rcs_receipt_timeout');
  });

  it('a hub that cannot answer capability lookups costs no message: SMS delivers', async () => {
    const { switchboard, carriers } = stack();
    carriers.rcsHub.inject({ errorRates: { 503: 1 }, onlyOps: ['capabilities'] });
    const sent = await switchboard.send({ to: '+15550200011', text: 'hub down' });
    const outcome = await switchboard.waitForOutcome(sent.messageId);
    assert.equal(outcome.channel, 'sms');
    assert.equal(outcome.fallbackReason, 'capability_unavailable');
  });

  it('a repeat recipient is routed from the capability cache, without a hub call', async () => {
    const { switchboard, carriers, db } = stack();
    const to = '+15550200012';
    const first = await switchboard.send({ to, text: 'one' });
    await switchboard.waitForOutcome(first.messageId);
    const second = await switchboard.send({ to, text: 'two' });
    await switchboard.waitForOutcome(second.messageId);
    const lookups = carriers.rcsHub.requests.filter((r) => r.op === 'capabilities' && r.msisdn === to);
    assert.equal(lookups.length, 1);
    const audit = new AuditLog(db, TEST_SECRETS.auditHashKey);
    const routed = async (id: string) =>
      (await audit.forMessage(id)).find((r) => r.event === 'routed')?.detail;
    assert.equal((await routed(first.messageId))?.capabilitySource, 'hub');
    assert.equal((await routed(second.messageId))?.capabilitySource, 'cache');
  });
});
