import { createHmac } from 'node:crypto';

/**
 * The message id an idempotency key stands for: HMAC-SHA256 under a secret key, shaped as an
 * RFC 9562 version 8 UUID (RBM wants its message ids to be UUIDs). Keys are often built from a
 * phone number (`otp-+1555…`); an unkeyed hash of one is reversed by trying the number space,
 * and the id shows in workflow ids, the Web UI and RBM. Not for workflow code: it uses node:crypto.
 */
export function keyedMessageId(secretKey: string, tenant: string, idempotencyKey: string): string {
  // JSON keeps the pair unambiguous whatever characters the key holds.
  const mac = createHmac('sha256', secretKey)
    .update(JSON.stringify([tenant, idempotencyKey]))
    .digest();
  mac[6] = ((mac[6] ?? 0) & 0x0f) | 0x80;
  mac[8] = ((mac[8] ?? 0) & 0x3f) | 0x80;
  const hex = mac.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
