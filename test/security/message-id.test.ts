import assert from 'node:assert/strict';
import { deriveKey } from '../../config/secrets';
import { keyedMessageId } from '../../domain/message-id';
import { uuidV5 } from '../../domain/uuid-v5';
import { TEST_SECRETS, stack } from '../fixtures/stack';

const KEY = 'otp-+15550371234';
const V8_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * What the reviewer ran: every `otp-<number>` key over rows +155503x of the sandbox number plan
 * (100 000 numbers), each put through a derivation, until one matches the id in the workflow id.
 */
function bruteForce(workflowId: string, derive: (key: string) => string): string | null {
  const target = workflowId.replace(/^deliver-/, '');
  for (let n = 0; n < 100_000; n++) {
    const key = `otp-+155503${String(n).padStart(5, '0')}`;
    if (derive(key) === target) return key;
  }
  return null;
}

describe('security: message ids do not reveal idempotency keys', function () {
  this.timeout(60_000);
  const unkeyed = (key: string) => uuidV5(`default\0${key}`);

  it('the attack: an unkeyed id (the old derivation) gives its key back by brute force', () => {
    assert.equal(bruteForce(`deliver-${unkeyed(KEY)}`, unkeyed), KEY);
  });

  it('a sent message keeps one id per key, and its workflow id gives nothing back without the secret', async () => {
    const { switchboard } = stack();
    const first = await switchboard.send({ to: '+15550300001', text: 'code 1', idempotencyKey: KEY });
    const again = await switchboard.send({ to: '+15550300001', text: 'code 1', idempotencyKey: KEY });
    assert.equal(again.messageId, first.messageId);
    assert.equal(again.started, false);
    assert.match(first.messageId, V8_UUID);
    assert.notEqual(first.messageId, unkeyed(KEY));

    assert.equal(bruteForce(first.workflowId, unkeyed), null, 'the unkeyed derivation finds nothing');
    const guessedKey = deriveKey({ ...TEST_SECRETS, auditHashKey: 'a-guess-of-the-secret' }, 'message-id');
    assert.equal(
      bruteForce(first.workflowId, (k) => keyedMessageId(guessedKey, 'default', k)),
      null,
      'a wrong secret finds nothing',
    );
    // The same search with the secret does find it: the search above could have succeeded.
    const secret = deriveKey(TEST_SECRETS, 'message-id');
    assert.equal(
      bruteForce(first.workflowId, (k) => keyedMessageId(secret, 'default', k)),
      KEY,
    );
  });

  it('tenants and keys do not collide', () => {
    const secret = deriveKey(TEST_SECRETS, 'message-id');
    assert.notEqual(keyedMessageId(secret, 'a', 'b\0c'), keyedMessageId(secret, 'a\0b', 'c'));
    assert.notEqual(keyedMessageId(secret, 'bank', KEY), keyedMessageId(secret, 'default', KEY));
  });
});
