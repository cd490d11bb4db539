import assert from 'node:assert/strict';
import { ValidationError, validateDeliveryRequest } from '../domain/delivery-request';

// The worker's own check of a deliverMessage input: whatever reaches Temporal is checked again.
const good = {
  messageId: '0b6f6a4e-1c1d-4c8e-9a57-3f1f3d1b2c3d',
  to: '+15550100001',
  text: 'hello',
  flow: 'standard',
  e2ee: 'off',
  tenant: 'acme',
  region: 'us',
  submittedAt: '2026-12-04T10:00:00.000Z',
};

function refusedField(input: Record<string, unknown>): string {
  try {
    validateDeliveryRequest(input);
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return err.field;
  }
  assert.fail('accepted');
}

describe('the worker re-validates a delivery request', () => {
  it('accepts a well-formed request, with a callback URL and the synthetic mark', () => {
    assert.equal(validateDeliveryRequest(good).tenant, 'acme');
    const marked = { ...good, statusCallbackUrl: 'https://app.example/hooks?x=1', synthetic: true };
    assert.equal(validateDeliveryRequest(marked).statusCallbackUrl, 'https://app.example/hooks?x=1');
  });

  for (const [name, patch, field] of [
    ['a foreign region', { region: 'eu' }, 'region'],
    ['an unknown field', { priority: 9 }, 'request'],
    ['a callback URL that is not a URL', { statusCallbackUrl: 'not a url' }, 'statusCallbackUrl'],
    ['a callback URL of another scheme', { statusCallbackUrl: 'file:///etc/passwd' }, 'statusCallbackUrl'],
    [
      'a callback URL with credentials',
      { statusCallbackUrl: 'https://u:p@app.example/' },
      'statusCallbackUrl',
    ],
    [
      'an overlong callback URL',
      { statusCallbackUrl: `https://a.example/${'x'.repeat(2000)}` },
      'statusCallbackUrl',
    ],
    ['a synthetic mark that is not true', { synthetic: false }, 'synthetic'],
  ] as const) {
    it(`refuses ${name}, naming ${field}`, () => {
      assert.equal(refusedField({ ...good, ...patch }), field);
    });
  }
});
