import { createHmac } from 'node:crypto';
import type { RcsPreference } from '../../domain/rollout';
import type { Database } from '../database';

/** Per-recipient RCS opt-in / opt-out, keyed by a hash of the number. */
export class RecipientPreferences {
  constructor(
    private readonly db: Database,
    private readonly hashKey: string,
  ) {}

  hash(e164: string): string {
    return createHmac('sha256', this.hashKey).update(e164).digest('hex');
  }

  async set(e164: string, preference: RcsPreference | null): Promise<void> {
    if (preference === null) {
      await this.db.query('DELETE FROM recipient_preferences WHERE recipient_hash = $1', [this.hash(e164)]);
      return;
    }
    await this.db.query(
      `INSERT INTO recipient_preferences (recipient_hash, rcs) VALUES ($1, $2)
       ON CONFLICT (recipient_hash) DO UPDATE SET rcs = excluded.rcs, updated_at = now()`,
      [this.hash(e164), preference],
    );
  }

  async get(e164: string): Promise<RcsPreference | null> {
    const { rows } = await this.db.query<{ rcs: RcsPreference }>(
      'SELECT rcs FROM recipient_preferences WHERE recipient_hash = $1',
      [this.hash(e164)],
    );
    return rows[0]?.rcs ?? null;
  }
}
