import { createHash } from 'node:crypto';

/** Switchboard's namespace for name-based (v5) ids. Not for workflow code: it uses node:crypto. */
const NAMESPACE = Buffer.from('4f2a1c6e9b3d4e7a8c5f0d1b2a3c4d5e', 'hex');

/** RFC 4122 version 5 UUID of `name` (RBM wants its message ids to be RFC 4122 UUIDs). */
export function uuidV5(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
