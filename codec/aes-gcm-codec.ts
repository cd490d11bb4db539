import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { REFUSED_PAYLOAD_KEY } from '../domain/refused-payload';
import type { RefusedPayload } from '../domain/refused-payload';

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class CodecKeyError extends Error {
  override readonly name = 'CodecKeyError';
}

const REFUSED_VALUE: RefusedPayload = { [REFUSED_PAYLOAD_KEY]: 'UNSEALED_PAYLOAD' };
const REFUSED: Payload = {
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(REFUSED_VALUE)),
};

/**
 * AES-256-GCM over whole payloads, so the Temporal server stores only ciphertext. Each payload
 * names the key that sealed it: rotating means adding a key and making it active, while older
 * keys stay listed so old histories still decode.
 *
 * Decoding trusts only what it sealed: a payload that is not sealed becomes the refused marker
 * (domain/refused-payload.ts). One that claims to be sealed but does not open (an unknown key id,
 * a failed tag) throws, so the workflow task retries: that is how a worker missing a rotated key
 * shows up, and it sends nothing until the key is there.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;

  constructor(
    keys: Record<string, Buffer>,
    private readonly activeKeyId: string,
  ) {
    this.keys = new Map(Object.entries(keys));
    for (const [id, key] of this.keys) {
      if (key.length !== 32) throw new CodecKeyError(`codec key "${id}" must be 32 bytes, got ${key.length}`);
    }
    if (!this.keys.has(activeKeyId))
      throw new CodecKeyError(`active codec key "${activeKeyId}" is not among the keys`);
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.activeKeyId) as Buffer;
    return this.settle(() =>
      payloads.map((payload) => {
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
        const plain = temporal.api.common.v1.Payload.encode(payload).finish();
        const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
        return {
          metadata: { encoding: Buffer.from(ENCODING), [KEY_ID]: Buffer.from(this.activeKeyId) },
          data: sealed,
        };
      }),
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return this.settle(() =>
      payloads.map((payload) => {
        const encoding = payload.metadata?.encoding;
        // Not sealed by a holder of our keys: never decoded into a value anyone acts on.
        if (!encoding || Buffer.from(encoding).toString() !== ENCODING) return REFUSED;
        const keyIdBytes = payload.metadata?.[KEY_ID];
        const keyId = keyIdBytes ? Buffer.from(keyIdBytes).toString() : '';
        const key = this.keys.get(keyId);
        if (!key) throw new CodecKeyError(`payload sealed with unknown codec key "${keyId}"`);
        const data = Buffer.from(payload.data ?? new Uint8Array());
        const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
        decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
        const plain = Buffer.concat([
          decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
          decipher.final(),
        ]);
        return temporal.api.common.v1.Payload.decode(plain);
      }),
    );
  }

  /** Runs synchronous work so that its errors reject the promise instead of throwing. */
  private settle<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

/** Parses `id:base64key[,id:base64key…]`. */
export function parseCodecKeys(spec: string): Record<string, Buffer> {
  const keys: Record<string, Buffer> = {};
  for (const part of spec.split(',')) {
    const [id, b64] = part.split(':');
    if (!id || !b64) throw new CodecKeyError('CODEC_KEYS: expected id:base64key[,id:base64key…]');
    keys[id] = Buffer.from(b64, 'base64');
  }
  return keys;
}
