import { createHmac } from 'node:crypto';

/**
 * A recipient's fixed place 0–9999 in the cohort order. Keyed, so nobody can pick numbers into
 * a pilot; stable, so growing the pilot from 1 % to 5 % to 50 % only ever adds people.
 */
export function cohortBucket(cohortKey: string, e164: string): number {
  return createHmac('sha256', cohortKey).update(e164).digest().readUInt32BE(0) % 10_000;
}
