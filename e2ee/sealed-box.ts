// Sealing to a public key with HPKE (RFC 9180, base mode, DHKEM(X25519) + HKDF-SHA256 +
// AES-256-GCM, through @hpke/core, the library ts-mls itself uses). Lawful access uses it twice:
// custodians seal their shares to the request's key, and the decrypted messages are sealed to the
// requester's key, so neither ever sits in Temporal history or PostgreSQL in the clear.

import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';

const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Aes256Gcm(),
});
/** X25519 encapsulated key length: the first bytes of every sealed box. */
const ENC_LENGTH = 32;

export type SealedBoxErrorCode = 'BAD_PUBLIC_KEY' | 'BAD_PRIVATE_KEY' | 'OPEN_FAILED';

/** Never carries key material or plaintext. */
export class SealedBoxError extends Error {
  override readonly name = 'SealedBoxError';
  constructor(readonly code: SealedBoxErrorCode) {
    super(`sealed box: ${code}`);
  }
}

export interface SealingKeyPair {
  /** base64url, 32 bytes: hand it to whoever seals. */
  publicKey: string;
  /** 32 bytes: keep it to yourself. */
  privateKey: Uint8Array;
}

export async function generateSealingKeyPair(): Promise<SealingKeyPair> {
  const pair = await suite.kem.generateKeyPair();
  return {
    publicKey: Buffer.from(await suite.kem.serializePublicKey(pair.publicKey)).toString('base64url'),
    privateKey: new Uint8Array(await suite.kem.serializePrivateKey(pair.privateKey)),
  };
}

/** True when `text` is a base64url X25519 public key as generateSealingKeyPair gives it. */
export function isSealingPublicKey(text: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(text) && Buffer.from(text, 'base64url').length === 32;
}

/** Seals `plaintext` to `publicKey`; `context` binds the box to its purpose (it is not secret). */
export async function sealTo(publicKey: string, plaintext: Uint8Array, context: string): Promise<Uint8Array> {
  if (!isSealingPublicKey(publicKey)) throw new SealedBoxError('BAD_PUBLIC_KEY');
  let recipientPublicKey: CryptoKey;
  try {
    recipientPublicKey = await suite.kem.deserializePublicKey(Buffer.from(publicKey, 'base64url'));
  } catch {
    throw new SealedBoxError('BAD_PUBLIC_KEY');
  }
  const sealed = await suite.seal({ recipientPublicKey, info: Buffer.from(context) }, plaintext);
  return new Uint8Array(Buffer.concat([Buffer.from(sealed.enc), Buffer.from(sealed.ct)]));
}

/** Opens a box made by sealTo with the same `context`; anything else: SealedBoxError OPEN_FAILED. */
export async function openSealed(
  privateKey: Uint8Array,
  box: Uint8Array,
  context: string,
): Promise<Uint8Array> {
  let recipientKey: CryptoKey;
  try {
    recipientKey = await suite.kem.deserializePrivateKey(privateKey);
  } catch {
    throw new SealedBoxError('BAD_PRIVATE_KEY');
  }
  if (box.length <= ENC_LENGTH) throw new SealedBoxError('OPEN_FAILED');
  try {
    const opened = await suite.open(
      { recipientKey, enc: box.subarray(0, ENC_LENGTH), info: Buffer.from(context) },
      box.subarray(ENC_LENGTH),
    );
    return new Uint8Array(opened);
  } catch {
    throw new SealedBoxError('OPEN_FAILED');
  }
}
