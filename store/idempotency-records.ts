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

// Listed in store/migrations.ts. A key whose message was started is answered from here (200),
// even after Temporal's retention has forgotten the workflow: without it the same key and body
// would start the message again.
export const idempotencyStartedMigration = {
  id: 19,
  name: 'api idempotency records: when the message was started',
  sql: `
    ALTER TABLE api_idempotency ADD COLUMN started_at timestamptz;
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') THEN
        GRANT UPDATE (started_at) ON api_idempotency TO switchboard_app;
      END IF;
    END $$;
  `,
};

/** `same-body-started`: the message this key stands for was started; start nothing. */
export type IdempotencyClaim = 'new' | 'same-body' | 'same-body-started' | 'different-body';

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
    const { rows } = await this.db.query<{ body_hash: Buffer; started_at: Date | null }>(
      'SELECT body_hash, started_at FROM api_idempotency WHERE tenant = $1 AND message_id = $2',
      [tenant, messageId],
    );
    const row = rows[0];
    if (!row?.body_hash.equals(bodyHash)) return 'different-body';
    return row.started_at ? 'same-body-started' : 'same-body';
  }

  /** After the workflow was started (or found started): later claims start nothing. */
  async markStarted(tenant: string, messageId: string): Promise<void> {
    await this.db.query(
      `UPDATE api_idempotency SET started_at = now()
       WHERE tenant = $1 AND message_id = $2 AND started_at IS NULL`,
      [tenant, messageId],
    );
  }

  async count(tenant: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM api_idempotency WHERE tenant = $1',
      [tenant],
    );
    return Number(rows[0]?.n ?? 0);
  }
}
