import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { validateAccessRequest } from '../../client/lawful-access-client';
import type { AccessRequestInput } from '../../client/lawful-access-client';
import { parseWindow } from '../../client/escrow-commands';
import { invalidAccessRequestField, normaliseApproval } from '../../domain/lawful-access';
import { ValidationError } from '../../client/validation';

const good = (): AccessRequestInput => ({
  tenant: 'bank',
  messageIds: [randomUUID()],
  requester: 'Officer',
  caseReference: 'W-1',
  approvalWindowMs: 60_000,
});

describe('lawful-access requests: bad input names the field', () => {
  const cases: [string, Partial<AccessRequestInput>, string][] = [
    ['bad tenant', { tenant: 'Bank!' }, 'tenant'],
    ['no messages', { messageIds: [] }, 'messageIds'],
    ['too many messages', { messageIds: Array.from({ length: 101 }, () => randomUUID()) }, 'messageIds'],
    ['not a message id', { messageIds: ['+15550100001'] }, 'messageIds'],
    [
      'a message named twice',
      { messageIds: ['6f1c1b9e-1111-4222-8333-444455556666', '6F1C1B9E-1111-4222-8333-444455556666'] },
      'messageIds',
    ],
    ['blank requester', { requester: '  ' }, 'requester'],
    ['control characters in the case', { caseReference: 'W\n1' }, 'caseReference'],
    ['over-long case', { caseReference: 'x'.repeat(121) }, 'caseReference'],
    ['window too short', { approvalWindowMs: 10 }, 'approvalWindowMs'],
    ['window too long', { approvalWindowMs: 31 * 86_400_000 }, 'approvalWindowMs'],
  ];
  for (const [what, change, field] of cases) {
    it(`${what} → ${field}`, () => {
      assert.throws(
        () => validateAccessRequest({ ...good(), ...change }),
        (err: ValidationError) =>
          err instanceof ValidationError && err.field === field && !err.message.includes('+1555'),
      );
    });
  }

  it('accepts a good request, ids lower-cased, labels trimmed', () => {
    const id = randomUUID().toUpperCase();
    const valid = validateAccessRequest({ ...good(), messageIds: [id], requester: ' Officer ' });
    assert.deepEqual(valid.messageIds, [id.toLowerCase()]);
    assert.equal(valid.requester, 'Officer');
  });

  it('parses approval windows', () => {
    assert.equal(parseWindow('--window', '90s'), 90_000);
    assert.equal(parseWindow('--window', '72h'), 72 * 3_600_000);
    assert.equal(parseWindow('--window', '7d'), 7 * 86_400_000);
    assert.throws(() => parseWindow('--window', '1w'), /--window/);
  });
});

describe('the worker’s own checks of requests and signals (domain rules)', () => {
  const request = () => ({
    requestId: randomUUID(),
    tenant: 'bank',
    messageIds: [randomUUID()],
    requester: 'Officer',
    caseReference: 'W-1',
    requesterPublicKey: Buffer.alloc(32, 7).toString('base64url'),
    approvalWindowMs: 60_000,
  });

  it('accepts a well-formed request', () => {
    assert.equal(invalidAccessRequestField(request()), null);
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ['request id not a UUID', { requestId: 'x' }, 'requestId'],
    [
      'upper-case message id (the client lower-cases)',
      { messageIds: [randomUUID().toUpperCase()] },
      'messageIds',
    ],
    ['message ids not a list', { messageIds: 'all' }, 'messageIds'],
    [
      'requester key of 31 bytes',
      { requesterPublicKey: Buffer.alloc(31).toString('base64url') },
      'requesterPublicKey',
    ],
    ['window that is no number (JSON turns NaN into null)', { approvalWindowMs: null }, 'approvalWindowMs'],
    ['window with a fraction', { approvalWindowMs: 1500.5 }, 'approvalWindowMs'],
    ['requester not a string', { requester: 42 }, 'requester'],
  ];
  for (const [what, change, field] of bad) {
    it(`${what} → ${field}`, () => {
      assert.equal(invalidAccessRequestField({ ...request(), ...change }), field);
    });
  }

  it('turns any signal payload into an approval that can only fail its check', () => {
    assert.deepEqual(normaliseApproval(null), { custodian: '(malformed)', shareIndex: 0, sealedShare: '' });
    assert.deepEqual(normaliseApproval({ custodian: 'x'.repeat(500), shareIndex: 1.5, sealedShare: 7 }), {
      custodian: 'x'.repeat(120),
      shareIndex: 0,
      sealedShare: '',
    });
  });
});
