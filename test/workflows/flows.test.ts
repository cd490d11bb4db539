import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { statusQuery } from '../../workflows/definitions';
import type { LiveStatus } from '../../workflows/definitions';
import { AUDIT_LANE } from '../../workflows/audit-trail';
import type { StubCall } from './stub-activities';
import {
  E2EE_PAYLOAD,
  attemptsOf,
  auditEvents,
  deliver,
  messageRequest,
  startDelivery,
  workflowTier,
} from './workflow-tier';

const sendsOf = (calls: StubCall[]) =>
  calls.flatMap((c) =>
    c.name === 'sendRcs' ? [`rcs${c.e2ee ? '+e2ee' : ''}`] : c.name === 'sendSms' ? ['sms'] : [],
  );

describe('workflow tier: retries, E2EE, pilot, critical, residency, status', function () {
  before(async function () {
    this.timeout(120_000);
    await workflowTier();
  });

  it('a 503 every time: retries up to the policy cap, each after the Retry-After, then SMS', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({ to: '+15550200101' });
    const retryAfterMs = 250;
    const outcome = await deliver(request, { rcsAlwaysTransient: { retryAfterMs } });

    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.channel, 'sms');
    assert.equal(outcome.fallbackReason, 'rcs_retries_exhausted');
    assert.deepEqual(attemptsOf(outcome), [
      { channel: 'rcs', result: 'failed', errorCode: '503' },
      { channel: 'rcs', result: 'failed', errorCode: '503' },
      { channel: 'rcs', result: 'failed', errorCode: '503' },
      { channel: 'sms', result: 'delivered', errorCode: null },
    ]);
    assert.deepEqual(auditEvents(carrier, request.messageId), [
      'received',
      'routed',
      'attempt',
      'attempt',
      'attempt',
      'accepted',
      'delivered',
      'completed',
    ]);
    // The policy's own backoff (50, 100 ms) is shorter: only the Retry-After explains these gaps.
    const at = carrier.calls(request.messageId).flatMap((c) => (c.name === 'sendRcs' ? [c.at] : []));
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    assert.equal(gaps.length, 2);
    for (const gap of gaps) assert.ok(gap >= retryAfterMs, `resent after ${gap} ms`);
  });

  it('E2EE_DECRYPT_FAILED: nothing to revoke, the plain RCS send follows; e2ee_failed', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({ to: '+15550100101', e2eePayload: E2EE_PAYLOAD });
    const outcome = await deliver(request, { e2eeDecryptFailure: 'WRONG_EPOCH' });

    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.channel, 'rcs');
    assert.equal(outcome.e2ee, false);
    assert.equal(outcome.fallbackReason, 'e2ee_failed');
    assert.deepEqual(attemptsOf(outcome), [
      { channel: 'rcs', result: 'failed', errorCode: 'E2EE_WRONG_EPOCH' },
      { channel: 'rcs', result: 'delivered', errorCode: null },
    ]);
    assert.deepEqual(auditEvents(carrier, request.messageId), [
      'received',
      'routed',
      'accepted',
      'e2ee_failure',
      'accepted',
      'delivered',
      'completed',
    ]);
    const calls = carrier.calls(request.messageId);
    assert.deepEqual(sendsOf(calls), ['rcs+e2ee', 'rcs']);
    assert.equal(
      calls.some((c) => c.name === 'revokeRcs'),
      false,
    );
  });

  it('required without a ciphertext: only the notice goes out; e2ee_unavailable', async () => {
    const { carrier } = await workflowTier();
    const notice = 'You have a secure message: open the app';
    const request = messageRequest({
      to: '+15550100102',
      e2ee: 'required',
      textIsNotice: true,
      text: notice,
    });
    const outcome = await deliver(request);

    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.channel, 'rcs');
    assert.equal(outcome.e2ee, false);
    assert.equal(outcome.fallbackReason, 'e2ee_unavailable');
    const rcs = carrier.calls(request.messageId).filter((c) => c.name === 'sendRcs' || c.name === 'sendSms');
    assert.deepEqual(
      rcs.map((c) => [c.name, 'text' in c ? c.text : null]),
      [['sendRcs', notice]],
    );
    assert.deepEqual(auditEvents(carrier, request.messageId), [
      'received',
      'routed',
      'accepted',
      'delivered',
      'completed',
    ]);
  });

  it('required whose text is not a notice: nothing is sent at all; e2ee_unavailable', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({ to: '+15550100103', e2ee: 'required' });
    const outcome = await deliver(request);

    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.fallbackReason, 'e2ee_unavailable');
    assert.deepEqual(outcome.attempts, []);
    assert.deepEqual(sendsOf(carrier.calls(request.messageId)), []);
    assert.deepEqual(auditEvents(carrier, request.messageId), ['received', 'routed', 'failed']);
    assert.equal(carrier.audit(request.messageId).at(-1)?.errorCode, 'e2ee_unavailable');
  });

  it('pilot, both channels deliver: RCS wins, the SMS is counted as a duplicate', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({ to: '+15550200102', flow: 'pilot' });
    const outcome = await deliver(request, { smsReceiptDelayMs: 200 });

    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.channel, 'rcs');
    assert.equal(outcome.flow, 'pilot');
    assert.equal(outcome.fallbackReason, null);
    assert.deepEqual(
      { ...outcome.pilot, rcsLatencyMs: null, smsLatencyMs: null },
      { winner: 'rcs', loser: 'duplicate', duplicate: true, rcsLatencyMs: null, smsLatencyMs: null },
    );
    assert.ok((outcome.pilot?.smsLatencyMs ?? 0) > (outcome.pilot?.rcsLatencyMs ?? Infinity));
    assert.deepEqual(attemptsOf(outcome), [
      { channel: 'rcs', result: 'delivered', errorCode: null },
      { channel: 'sms', result: 'delivered', errorCode: null },
    ]);
    const { messageId } = request;
    assert.deepEqual(auditEvents(carrier, messageId, AUDIT_LANE.parent), ['received', 'routed', 'completed']);
    assert.deepEqual(auditEvents(carrier, messageId, AUDIT_LANE.rcsChild), ['accepted', 'delivered']);
    assert.deepEqual(auditEvents(carrier, messageId, AUDIT_LANE.smsChild), ['accepted', 'delivered']);
    // Receipts reach each child directly: the send names the child's workflow.
    const senders = carrier
      .calls(messageId)
      .flatMap((c) => (c.name === 'sendRcs' || c.name === 'sendSms' ? [[c.name, c.workflowId]] : []));
    assert.deepEqual(senders.sort(), [
      ['sendRcs', `deliver-${messageId}-rcs`],
      ['sendSms', `deliver-${messageId}-sms`],
    ]);
  });

  it('pilot, RCS phone offline: SMS wins, the RCS child is stood down and revokes', async () => {
    const { carrier } = await workflowTier();
    // A receipt wait far beyond the test: only the stand-down can end it in time.
    const request = messageRequest({ to: '+15550500102', flow: 'pilot' });
    const outcome = await deliver(request, { policy: { rcsReceiptTimeoutMs: 30_000 } });

    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.channel, 'sms');
    assert.equal(outcome.pilot?.winner, 'sms');
    assert.equal(outcome.pilot?.loser, 'revoked');
    assert.equal(outcome.pilot?.duplicate, false);
    assert.deepEqual(attemptsOf(outcome), [
      { channel: 'sms', result: 'delivered', errorCode: null },
      { channel: 'rcs', result: 'revoked', errorCode: 'STOOD_DOWN' },
    ]);
    assert.ok(outcome.timings.totalMs < 10_000, `took ${outcome.timings.totalMs} ms`);
    const { messageId } = request;
    assert.deepEqual(auditEvents(carrier, messageId, AUDIT_LANE.rcsChild), ['accepted', 'revoked']);
    assert.deepEqual(auditEvents(carrier, messageId, AUDIT_LANE.smsChild), ['accepted', 'delivered']);
    assert.equal(carrier.calls(messageId).filter((c) => c.name === 'revokeRcs').length, 1);
  });

  it('critical: SMS first and authoritative, the RCS copy after it is supplementary', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({
      to: '+15550100104',
      flow: 'critical',
      rcsCopy: true,
      text: 'Code 123456',
    });
    const outcome = await deliver(request);

    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.channel, 'sms');
    assert.equal(outcome.authoritative, 'sms');
    assert.equal(outcome.fallbackReason, 'critical_sms_first');
    assert.deepEqual(attemptsOf(outcome), [
      { channel: 'sms', result: 'delivered', errorCode: null },
      { channel: 'rcs', result: 'delivered', errorCode: null, supplementary: true },
    ]);
    assert.deepEqual(sendsOf(carrier.calls(request.messageId)), ['sms', 'rcs']);
    const rows = carrier.audit(request.messageId);
    assert.deepEqual(auditEvents(carrier, request.messageId), [
      'received',
      'routed',
      'accepted',
      'delivered',
      'accepted',
      'delivered',
      'completed',
    ]);
    assert.deepEqual(
      rows.map((r) => r.detail.supplementary ?? false),
      [false, false, false, false, true, true, false],
    );
  });

  it('residency: a region without carriers fails with region_unserved and sends nothing', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({ to: '+6590000001', region: 'ap' });
    const outcome = await deliver(request);

    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.channel, null);
    assert.equal(outcome.fallbackReason, 'region_unserved');
    assert.deepEqual(outcome.attempts, []);
    assert.deepEqual(
      carrier.calls(request.messageId).map((c) => c.name),
      ['prepareDelivery', 'recordAudit'],
    );
    assert.deepEqual(auditEvents(carrier, request.messageId), [
      'received',
      'probe_failed',
      'routed',
      'failed',
    ]);
    assert.equal(carrier.audit(request.messageId)[1]?.errorCode, 'REGION_UNSERVED');
  });

  it('a multi-part SMS with one part UNDELIV fails with that part’s code', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({ to: '+15550300101', text: 'x'.repeat(400) });
    const outcome = await deliver(request, { smsPartStates: ['DELIVRD', 'UNDELIV', 'DELIVRD'] });

    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.fallbackReason, 'not_rcs_capable');
    assert.deepEqual(attemptsOf(outcome), [{ channel: 'sms', result: 'failed', errorCode: 'UNDELIV:001' }]);
    assert.deepEqual(auditEvents(carrier, request.messageId), [
      'received',
      'routed',
      'accepted',
      'receipt',
      'failed',
    ]);
    assert.equal(carrier.audit(request.messageId)[2]?.detail.parts, 3);
  });

  it('answers the status query while it waits for a receipt, and with the outcome after', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({ to: '+15550200103' });
    const handle = await startDelivery(request, {
      holdRcsReceipt: true,
      policy: { rcsReceiptTimeoutMs: 30_000 },
    });

    let live: LiveStatus | null = null;
    for (let i = 0; i < 100 && live?.step !== 'awaiting-rcs-receipt'; i++) {
      await delay(20);
      live = await handle.query(statusQuery);
    }
    assert.deepEqual(live, { step: 'awaiting-rcs-receipt', channel: null, attempts: [], outcome: null });
    assert.equal(carrier.isHolding(request.messageId), true);

    carrier.release(request.messageId);
    const outcome = await handle.result();
    assert.equal(outcome.channel, 'rcs');
    const after = await handle.query(statusQuery);
    assert.equal(after.step, 'delivered');
    assert.deepEqual(after.outcome, outcome);
  });
});
