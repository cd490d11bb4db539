import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  SealedBoxError,
  generateSealingKeyPair,
  isSealingPublicKey,
  openSealed,
  sealTo,
} from '../../e2ee/sealed-box';

describe('sealed boxes (HPKE to a public key)', () => {
  it('opens with the private key and the same context only', async () => {
    const pair = await generateSealingKeyPair();
    const other = await generateSealingKeyPair();
    assert.ok(isSealingPublicKey(pair.publicKey));
    const box = await sealTo(pair.publicKey, Buffer.from('share'), 'ctx A');
    assert.equal(Buffer.from(await openSealed(pair.privateKey, box, 'ctx A')).toString(), 'share');
    await assert.rejects(
      openSealed(pair.privateKey, box, 'ctx B'),
      (e: SealedBoxError) => e.code === 'OPEN_FAILED',
    );
    await assert.rejects(
      openSealed(other.privateKey, box, 'ctx A'),
      (e: SealedBoxError) => e.code === 'OPEN_FAILED',
    );
    const tampered = Buffer.from(box);
    const last = tampered.length - 1;
    tampered.writeUInt8(tampered.readUInt8(last) ^ 1, last);
    await assert.rejects(openSealed(pair.privateKey, tampered, 'ctx A'), SealedBoxError);
    await assert.rejects(openSealed(pair.privateKey, box.subarray(0, 20), 'ctx A'), SealedBoxError);
  });

  it('refuses a public key that is not one', async () => {
    for (const key of ['', 'abc', Buffer.from(randomBytes(31)).toString('base64url')]) {
      assert.equal(isSealingPublicKey(key), false);
      await assert.rejects(
        sealTo(key, Buffer.from('x'), 'c'),
        (e: SealedBoxError) => e.code === 'BAD_PUBLIC_KEY',
      );
    }
  });

  it('two boxes of the same plaintext differ (fresh ephemeral key each time)', async () => {
    const pair = await generateSealingKeyPair();
    const a = await sealTo(pair.publicKey, Buffer.from('same'), 'c');
    const b = await sealTo(pair.publicKey, Buffer.from('same'), 'c');
    assert.notDeepEqual(Buffer.from(a), Buffer.from(b));
  });
});
