import { createHmac } from 'node:crypto';

/** A keyed hash of a recipient's number; '' when the number is unknown (matches any). */
export type RecipientMatchHash = (number: string | null) => Buffer;

/**
 * Receipts are matched on their number as well as their SMSC id, since SMSC ids are not unique.
 * No number is stored: submissions and inbox rows hold this keyed hash of its digits (a
 * deliver_sm's source_addr may come with or without the +, per its TON).
 */
export function recipientMatchHash(keyHex: string): RecipientMatchHash {
  const key = Buffer.from(keyHex, 'hex');
  return (number) => {
    const digits = (number ?? '').replace(/\D/g, '');
    return digits ? createHmac('sha256', key).update(digits).digest() : Buffer.alloc(0);
  };
}
