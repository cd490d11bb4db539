// @hpke/core's declarations name the WebCrypto globals CryptoKey and CryptoKeyPair, which only
// the DOM lib declares; in Node they are node:crypto's webcrypto types.
import type { webcrypto } from 'node:crypto';

declare global {
  type CryptoKey = webcrypto.CryptoKey;
  type CryptoKeyPair = webcrypto.CryptoKeyPair;
}
