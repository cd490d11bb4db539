import assert from 'node:assert/strict';
import { signCallback } from '../../channels/callbacks/signature';
import { verifyCallbackSignature } from '../../client/callback-signature';
import { ValidationError, validateSend } from '../../client/validation';

describe('callback signatures (verifyCallbackSignature)', () => {
  const secret = 'whsec_test-secret';
  const body = JSON.stringify({ eventId: 'e1', messageId: 'm1', sequence: 1, status: 'accepted' });
  const now = 1_800_000_000;

  it('accepts the header Switchboard signs, over the raw body', () => {
    const header = signCallback(secret, body, now);
    assert.match(header, /^t=1800000000,v1=[0-9a-f]{64}$/);
    assert.deepEqual(verifyCallbackSignature({ secret, header, body, now }), { valid: true, timestamp: now });
    assert.ok(verifyCallbackSignature({ secret, header, body: Buffer.from(body), now }).valid);
  });

  it('refuses a tampered body, another secret, or a moved timestamp', () => {
    const header = signCallback(secret, body, now);
    const tampered = body.replace('accepted', 'delivered');
    assert.deepEqual(verifyCallbackSignature({ secret, header, body: tampered, now }), {
      valid: false,
      reason: 'mismatch',
    });
    assert.equal(verifyCallbackSignature({ secret: 'whsec_other', header, body, now }).valid, false);
    const moved = header.replace(`t=${now}`, `t=${now + 1}`);
    assert.deepEqual(verifyCallbackSignature({ secret, header: moved, body, now }), {
      valid: false,
      reason: 'mismatch',
    });
  });

  it('refuses an old (or far future) timestamp beyond the tolerance', () => {
    const old = signCallback(secret, body, now - 301);
    assert.deepEqual(verifyCallbackSignature({ secret, header: old, body, now }), {
      valid: false,
      reason: 'stale',
    });
    assert.ok(verifyCallbackSignature({ secret, header: old, body, now, toleranceSeconds: 600 }).valid);
    const future = signCallback(secret, body, now + 301);
    assert.equal(verifyCallbackSignature({ secret, header: future, body, now }).valid, false);
  });

  it('refuses a missing or malformed header', () => {
    for (const header of [undefined, null, '', 't=abc,v1=00', `t=${now}`, `v1=${'0'.repeat(64)}`]) {
      assert.deepEqual(verifyCallbackSignature({ secret, header, body, now }), {
        valid: false,
        reason: 'malformed',
      });
    }
  });

  it('accepts the header when any of several v1 values matches', () => {
    const header = `${signCallback(secret, body, now)},v1=${'0'.repeat(64)}`;
    assert.ok(verifyCallbackSignature({ secret, header, body, now }).valid);
  });
});

describe('statusCallbackUrl in SwitchboardClient.send', () => {
  it('is checked by the client before anything starts, naming the field', () => {
    for (const bad of ['not a url', 'ftp://example.com/x', 'https://user:pw@example.com/x', '']) {
      assert.throws(
        () => validateSend({ to: '+15550200001', text: 'hi', statusCallbackUrl: bad }),
        (err: unknown) =>
          err instanceof ValidationError && /^statusCallbackUrl: an absolute http/.test(err.message),
        bad,
      );
    }
    const ok = validateSend({
      to: '+15550200001',
      text: 'hi',
      statusCallbackUrl: 'https://app.example.com/h',
    });
    assert.equal(ok.statusCallbackUrl, 'https://app.example.com/h');
    assert.equal(validateSend({ to: '+15550200001', text: 'hi' }).statusCallbackUrl, null);
  });
});
