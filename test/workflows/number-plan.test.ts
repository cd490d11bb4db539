import assert from 'node:assert/strict';
import type { AttemptRecord, DeliveryOutcome, DeliveryRequest } from '../../domain/message';
import { STUB_POLICY } from './stub-activities';
import type { StubCall } from './stub-activities';
import {
  E2EE_PAYLOAD,
  attemptsOf,
  auditEvents,
  deliver,
  messageRequest,
  workflowTier,
} from './workflow-tier';

interface Row {
  to: string;
  behaviour: string;
  request?: Partial<DeliveryRequest>;
  expect: Pick<DeliveryOutcome, 'status' | 'channel' | 'e2ee' | 'fallbackReason'> & {
    attempts: Array<Omit<AttemptRecord, 'at'>>;
    audit: string[];
    sends: Array<StubCall['name']>;
  };
}

const ROWS: Row[] = [
  {
    to: '+15550100001',
    behaviour: 'RCS with E2EE: the app ciphertext is delivered',
    request: { e2eePayload: E2EE_PAYLOAD },
    expect: {
      status: 'delivered',
      channel: 'rcs',
      e2ee: true,
      fallbackReason: null,
      attempts: [{ channel: 'rcs', result: 'delivered', errorCode: null, e2ee: true }],
      audit: ['received', 'routed', 'accepted', 'delivered', 'completed'],
      sends: ['archiveForEscrow', 'sendRcs'],
    },
  },
  {
    to: '+15550200001',
    behaviour: 'RCS without E2EE delivers',
    expect: {
      status: 'delivered',
      channel: 'rcs',
      e2ee: false,
      fallbackReason: null,
      attempts: [{ channel: 'rcs', result: 'delivered', errorCode: null }],
      audit: ['received', 'routed', 'accepted', 'delivered', 'completed'],
      sends: ['sendRcs'],
    },
  },
  {
    to: '+15550300001',
    behaviour: 'not an RCS user: SMS delivers',
    expect: {
      status: 'delivered',
      channel: 'sms',
      e2ee: false,
      fallbackReason: 'not_rcs_capable',
      attempts: [{ channel: 'sms', result: 'delivered', errorCode: null }],
      audit: ['received', 'routed', 'accepted', 'delivered', 'completed'],
      sends: ['sendSms'],
    },
  },
  {
    to: '+15550400001',
    behaviour: 'the hub answers 503 to the first send, then RCS delivers',
    expect: {
      status: 'delivered',
      channel: 'rcs',
      e2ee: false,
      fallbackReason: null,
      attempts: [
        { channel: 'rcs', result: 'failed', errorCode: '503' },
        { channel: 'rcs', result: 'delivered', errorCode: null },
      ],
      audit: ['received', 'routed', 'attempt', 'accepted', 'delivered', 'completed'],
      sends: ['sendRcs', 'sendRcs'],
    },
  },
  {
    to: '+15550500001',
    behaviour: 'phone offline: no receipt, revoked, SMS delivers',
    expect: {
      status: 'delivered',
      channel: 'sms',
      e2ee: false,
      fallbackReason: 'rcs_receipt_timeout',
      attempts: [
        { channel: 'rcs', result: 'revoked', errorCode: 'RECEIPT_TIMEOUT' },
        { channel: 'sms', result: 'delivered', errorCode: null },
      ],
      audit: ['received', 'routed', 'accepted', 'revoked', 'accepted', 'delivered', 'completed'],
      sends: ['sendRcs', 'revokeRcs', 'sendSms'],
    },
  },
  {
    to: '+15550600001',
    behaviour: 'RCS send rejected (400): SMS delivers',
    expect: {
      status: 'delivered',
      channel: 'sms',
      e2ee: false,
      fallbackReason: 'rcs_permanent_error',
      attempts: [
        { channel: 'rcs', result: 'failed', errorCode: '400' },
        { channel: 'sms', result: 'delivered', errorCode: null },
      ],
      audit: ['received', 'routed', 'attempt', 'accepted', 'delivered', 'completed'],
      sends: ['sendRcs', 'sendSms'],
    },
  },
  {
    to: '+15550700001',
    behaviour: 'not an RCS user, the SMSC answers UNDELIV: failed',
    expect: {
      status: 'failed',
      channel: null,
      e2ee: false,
      fallbackReason: 'not_rcs_capable',
      attempts: [{ channel: 'sms', result: 'failed', errorCode: 'UNDELIV:001' }],
      audit: ['received', 'routed', 'accepted', 'receipt', 'failed'],
      sends: ['sendSms'],
    },
  },
  {
    to: '+15550800001',
    behaviour: 'RCS text only delivers',
    expect: {
      status: 'delivered',
      channel: 'rcs',
      e2ee: false,
      fallbackReason: null,
      attempts: [{ channel: 'rcs', result: 'delivered', errorCode: null }],
      audit: ['received', 'routed', 'accepted', 'delivered', 'completed'],
      sends: ['sendRcs'],
    },
  },
  {
    to: '+447700900123',
    behaviour: 'region eu: RCS with E2EE, through eu only',
    request: { region: 'eu', e2eePayload: E2EE_PAYLOAD },
    expect: {
      status: 'delivered',
      channel: 'rcs',
      e2ee: true,
      fallbackReason: null,
      attempts: [{ channel: 'rcs', result: 'delivered', errorCode: null, e2ee: true }],
      audit: ['received', 'routed', 'accepted', 'delivered', 'completed'],
      sends: ['archiveForEscrow', 'sendRcs'],
    },
  },
];

const SENDS = new Set<StubCall['name']>(['archiveForEscrow', 'sendRcs', 'revokeRcs', 'sendSms']);

describe('workflow tier: deliverMessage through the sandbox number plan', function () {
  before(async function () {
    this.timeout(120_000);
    await workflowTier();
  });

  for (const row of ROWS) {
    it(`${row.to.slice(0, 8)}…: ${row.behaviour}`, async () => {
      const { carrier } = await workflowTier();
      const request = messageRequest({ to: row.to, ...row.request });
      const outcome = await deliver(request);

      assert.equal(outcome.status, row.expect.status);
      assert.equal(outcome.channel, row.expect.channel);
      assert.equal(outcome.e2ee, row.expect.e2ee);
      assert.equal(outcome.fallbackReason, row.expect.fallbackReason);
      assert.deepEqual(attemptsOf(outcome), row.expect.attempts);
      assert.equal(outcome.flow, 'standard');
      assert.equal(outcome.configVersion, 0);
      assert.deepEqual(auditEvents(carrier, request.messageId), row.expect.audit);
      const calls = carrier.calls(request.messageId);
      assert.deepEqual(
        calls.filter((c) => SENDS.has(c.name)).map((c) => c.name),
        row.expect.sends,
      );
      const region = request.region;
      assert.deepEqual(
        calls.filter((c) => 'region' in c && c.region !== region),
        [],
        `every activity was called with region ${region}`,
      );
    });
  }

  it('records the app negotiation time; the ciphertext is archived before it is sent', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({ to: '+15550100002', e2eePayload: E2EE_PAYLOAD });
    const outcome = await deliver(request);
    assert.equal(outcome.timings.e2eeNegotiationMs, 42);
    const calls = carrier.calls(request.messageId);
    assert.deepEqual(
      calls.flatMap((c) =>
        c.name === 'archiveForEscrow' ? ['archive'] : c.name === 'sendRcs' ? [`rcs e2ee=${c.e2ee}`] : [],
      ),
      ['archive', 'rcs e2ee=true'],
    );
  });

  it('waits the policy backoff before resending after a 503', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({ to: '+15550400002' });
    await deliver(request);
    const sends = carrier.calls(request.messageId).flatMap((c) => (c.name === 'sendRcs' ? [c.at] : []));
    assert.equal(sends.length, 2);
    const [first, second] = sends as [number, number];
    assert.ok(second - first >= STUB_POLICY.rcsRetryBackoffMs, `resent after ${second - first} ms`);
  });
});
