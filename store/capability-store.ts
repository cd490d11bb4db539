// The shared tier of the RCS capability cache on PostgreSQL (migration 3). Rows are keyed by a
// keyed hash of the number: phone numbers are few enough that a plain hash is reversed by trying
// them all, so without the key the table names nobody. Changing the key orphans every row (each
// becomes a miss, and purgeOlderThan clears them), which is also how to rotate it.

import { createHmac } from 'node:crypto';
import type { CapabilityEntry, SharedCapabilityStore } from '../channels/rcs/capability-cache';
import type { RcsCapabilities } from '../channels/rcs/types';
import type { Database } from './database';

export interface PostgresCapabilityStoreOptions {
  /**
   * Budget for one get or put, waiting for a pooled connection included. The cache treats a
   * failure as a miss and asks the hub, so a slow database must not hold up a probe for longer
   * than the hub itself would. Default 1000 ms.
   */
  timeoutMs?: number;
  /** Clock for purgeOlderThan; use the capability cache's, since it writes fetchedAt. */
  now?: () => number;
}

/** Never carries a number, a hash or a row: a caller may log it. */
export class CapabilityStoreError extends Error {
  override readonly name = 'CapabilityStoreError';
  constructor(readonly reason: 'timeout' | 'malformed-row' | 'invalid-entry') {
    super(`capability store: ${reason}`);
  }
}

const MIN_HASH_KEY_LENGTH = 16;

export class PostgresCapabilityStore implements SharedCapabilityStore {
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Database,
    private readonly hashKey: string,
    options: PostgresCapabilityStoreOptions = {},
  ) {
    if (hashKey.length < MIN_HASH_KEY_LENGTH) {
      throw new Error(`capability store hash key must be at least ${MIN_HASH_KEY_LENGTH} characters`);
    }
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** HMAC-SHA256(hashKey, msisdn) as hex: the row key. */
  hashMsisdn(msisdn: string): string {
    return createHmac('sha256', this.hashKey).update(msisdn).digest('hex');
  }

  async get(msisdn: string): Promise<CapabilityEntry | null> {
    const { rows } = await this.bounded(
      this.db.query<{ capabilities: unknown; fetched_at: Date }>(
        'SELECT capabilities, fetched_at FROM capability_cache WHERE msisdn_hash = $1',
        [this.hashMsisdn(msisdn)],
      ),
    );
    const row = rows[0];
    if (!row) return null;
    const fetchedAt = row.fetched_at.getTime();
    if (!Number.isFinite(fetchedAt)) throw new CapabilityStoreError('malformed-row');
    return { capabilities: toCapabilities(row.capabilities), fetchedAt };
  }

  /** Keeps whichever answer is newer, so a slow worker's late write cannot roll a row back. */
  async put(msisdn: string, entry: CapabilityEntry): Promise<void> {
    if (!Number.isFinite(entry.fetchedAt)) throw new CapabilityStoreError('invalid-entry');
    // SQL NULL for "not an RCS user", never jsonb 'null'; only the fields we read back are kept.
    const capabilities =
      entry.capabilities === null ? null : JSON.stringify({ features: entry.capabilities.features });
    await this.bounded(
      this.db.query(
        `INSERT INTO capability_cache (msisdn_hash, capabilities, fetched_at)
         VALUES ($1, $2::jsonb, $3::timestamptz)
         ON CONFLICT (msisdn_hash) DO UPDATE
           SET capabilities = excluded.capabilities, fetched_at = excluded.fetched_at
           WHERE excluded.fetched_at > capability_cache.fetched_at`,
        [this.hashMsisdn(msisdn), capabilities, new Date(entry.fetchedAt).toISOString()],
      ),
    );
  }

  /**
   * Housekeeping: deletes rows fetched more than `ageMs` ago (by this store's clock) and returns
   * how many. Rows past the cache's max age are never served, so any age above it is safe.
   * Not bounded by timeoutMs.
   */
  async purgeOlderThan(ageMs: number): Promise<number> {
    if (!Number.isFinite(ageMs) || ageMs < 0) throw new RangeError('ageMs must be a non-negative number');
    const cutoff = new Date(this.now() - ageMs).toISOString();
    const result = await this.db.query('DELETE FROM capability_cache WHERE fetched_at < $1::timestamptz', [
      cutoff,
    ]);
    return result.rowCount ?? 0;
  }

  /**
   * Gives up waiting after timeoutMs. The statement itself may still finish later: harmless for
   * a read, and for a write the newer-wins upsert makes a late arrival safe.
   */
  private async bounded<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CapabilityStoreError('timeout')), this.timeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function toCapabilities(value: unknown): RcsCapabilities | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new CapabilityStoreError('malformed-row');
  const features = (value as { features?: unknown }).features;
  if (!Array.isArray(features) || !features.every((f): f is string => typeof f === 'string')) {
    throw new CapabilityStoreError('malformed-row');
  }
  return { features };
}
