// Encryption at rest shared by the stores that keep files (store/shortlinks.ts explains the
// scheme): AES-256-GCM blobs under a random data key, that key wrapped under a key derived with
// HKDF-SHA256 from a server KEK and a secret only the rightful caller holds (a link's token, a
// media object's id), and KEKs named by an id so that retired ones can still open old rows.

import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const GCM_NONCE = 12;
const GCM_TAG = 16;

/** A KEK's public name, stored beside each row wrapped under it. */
export function kekId(kek: Buffer): string {
  // The label predates the media store; changing it would orphan every stored link.
  return createHash('sha256').update('switchboard/shortlink/kek-id\0').update(kek).digest('hex').slice(0, 16);
}

/** A 32-byte key bound to the KEK, the caller's secret and what the key is for. */
export function deriveKey(kek: Buffer, secret: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', kek, Buffer.from(secret, 'utf8'), info, 32));
}

/** nonce ‖ ciphertext ‖ tag; the AAD binds a blob to its row and its column. */
export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const nonce = randomBytes(GCM_NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** The plaintext, or null when the blob fails authentication (wrong key, AAD or bytes). */
export function open(key: Buffer, sealed: Buffer, aad: string): Buffer | null {
  if (sealed.length < GCM_NONCE + GCM_TAG) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, GCM_NONCE));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - GCM_TAG));
    return Buffer.concat([
      decipher.update(sealed.subarray(GCM_NONCE, sealed.length - GCM_TAG)),
      decipher.final(),
    ]);
  } catch {
    return null;
  }
}

/**
 * The active KEK and the retired ones, by id. Throws `invalid(message)` (the caller's typed
 * error) for a key that is not 32 bytes.
 */
export function kekRing(
  active: Buffer,
  previous: Buffer[],
  invalid: (message: string) => Error,
): { activeId: string; keks: Map<string, Buffer> } {
  const keks = new Map<string, Buffer>();
  for (const key of [active, ...previous]) {
    if (!Buffer.isBuffer(key) || key.length !== 32) throw invalid('kek: 32 bytes are required');
    keks.set(kekId(key), Buffer.from(key));
  }
  return { activeId: kekId(active), keks };
}
