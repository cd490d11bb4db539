// Recipients for a phase: a repeat mix over a pool of sandbox numbers. 80 % of sends go to the
// hottest 20 % of the pool, the rest spread over the other 80 %, drawn with a seeded random
// source. Each phase gets its own block of the prefix's 10,000 numbers, so every phase starts
// with a cold capability cache (in-process and shared) and phases never warm each other.
import { seededRandom } from './stats';

export const POOL_SIZE = 500;
const HOT_SHARE_OF_POOL = 0.2;
const HOT_SHARE_OF_SENDS = 0.8;
const BLOCKS = Math.floor(10_000 / POOL_SIZE);

export interface RecipientMix {
  next(): string;
  /** Sends drawn so far. */
  readonly draws: number;
  /** Distinct numbers among them: the fewest hub lookups any cache could get away with. */
  readonly distinct: number;
}

/** `prefix` is a number-plan prefix such as '+1555020'; `block` picks the phase's slice of it. */
export function recipientMix(prefix: string, block: number, seed: number): RecipientMix {
  if (!/^\+\d{7}$/.test(prefix)) throw new Error('recipientMix: a prefix of + and 7 digits');
  const base = (block % BLOCKS) * POOL_SIZE;
  const hot = Math.round(POOL_SIZE * HOT_SHARE_OF_POOL);
  const random = seededRandom(seed);
  const seen = new Set<number>();
  let draws = 0;
  return {
    next() {
      const index =
        random() < HOT_SHARE_OF_SENDS
          ? Math.floor(random() * hot)
          : hot + Math.floor(random() * (POOL_SIZE - hot));
      seen.add(index);
      draws++;
      return `${prefix}${String(base + index).padStart(4, '0')}`;
    },
    get draws() {
      return draws;
    },
    get distinct() {
      return seen.size;
    },
  };
}
