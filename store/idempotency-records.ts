// The REST API's Idempotency-Key records: which body a tenant's key was first used with. The key
// itself is never stored (apps build keys from phone numbers): the row is keyed by the message id
// it stands for, an HMAC of tenant and key (domain/message-id.ts), and the body by an HMAC too,
// so the table confirms no guess of a text or a number.
import type { Database } from './database';

// Listed in store/migrations.ts.
export const idempotencyRecordsMigration = {
  id: 15,
  name: 'api idempotency records',
  sql: `
    CREATE TABLE api_idempotency (
      tenant     text        NOT NULL,
      message_id text        NOT NULL,
      body_hash  bytea       NOT NULL CHECK (octet_length(body_hash) = 32),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant, message_id)
    );
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') THEN
        GRANT SELECT, INSERT ON api_idempotency TO switchboard_app;
      END IF;
    END $$;
  `,
};

export type IdempotencyClaim = 'new' | 'same-body' | 'different-body';

export class IdempotencyRecords {
  constructor(private readonly db: Database) {}

  /** Records the first body for (tenant, message id), or says how this one compares with it. */
  async claim(tenant: string, messageId: string, bodyHash: Buffer): Promise<IdempotencyClaim> {
    const inserted = await this.db.query(
      `INSERT INTO api_idempotency (tenant, message_id, body_hash) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING`,
      [tenant, messageId, bodyHash],
    );
    if ((inserted.rowCount ?? 0) > 0) return 'new';
    const { rows } = await this.db.query<{ body_hash: Buffer }>(
      'SELECT body_hash FROM api_idempotency WHERE tenant = $1 AND message_id = $2',
      [tenant, messageId],
    );
    return rows[0]?.body_hash.equals(bodyHash) ? 'same-body' : 'different-body';
  }

  async count(tenant: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM api_idempotency WHERE tenant = $1',
      [tenant],
    );
    return Number(rows[0]?.n ?? 0);
  }
}
