// Listed in store/migrations.ts.
export const escrowMigration = {
  id: 10,
  name: 'e2ee escrow',
  sql: `
    -- Escrowed tenants (e2ee/escrow.ts). The record holds the escrow member's public KeyPackages
    -- and its private material sealed under the escrow key; the key itself exists nowhere, only
    -- its k-of-n shares with the custodians. At most one active escrow per tenant.
    CREATE TABLE e2ee_escrows (
      escrow_id  text        PRIMARY KEY,
      tenant     text        NOT NULL,
      record     text        NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      retired_at timestamptz
    );
    CREATE UNIQUE INDEX e2ee_escrows_active ON e2ee_escrows (tenant) WHERE retired_at IS NULL;

    -- What an escrowed tenant sent end-to-end encrypted, kept so that k custodians together can
    -- open a named message later: each group's Welcome (it names the escrow member) and each
    -- message's MLS ciphertext. Ciphertext only; the group id is clear in MLS headers anyway.
    CREATE TABLE e2ee_escrow_welcomes (
      escrow_id   text        NOT NULL REFERENCES e2ee_escrows,
      group_id    text        NOT NULL,
      welcome     bytea       NOT NULL,
      archived_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (escrow_id, group_id)
    );
    CREATE TABLE e2ee_escrow_messages (
      message_id  text        PRIMARY KEY,
      escrow_id   text        NOT NULL REFERENCES e2ee_escrows,
      tenant      text        NOT NULL,
      group_id    text        NOT NULL,
      ciphertext  bytea       NOT NULL,
      archived_at timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (escrow_id, group_id) REFERENCES e2ee_escrow_welcomes
    );

    -- Lawful-access requests (workflows/lawful-access.ts). sealed_key is the request's private
    -- HPKE key (custodians seal their shares to its public half) under the worker's key; it is
    -- erased when the request closes (or expires), so the sealed shares left in Temporal history
    -- open nothing. A request id is used once: a closed request never reopens.
    CREATE TABLE e2ee_access_requests (
      request_id text        PRIMARY KEY,
      escrow_id  text        NOT NULL REFERENCES e2ee_escrows,
      tenant     text        NOT NULL,
      request_digest text    NOT NULL,
      public_key text        NOT NULL,
      sealed_key bytea,
      outcome    text        CHECK (outcome IN ('granted', 'refused')),
      result     text,
      opened_at  timestamptz NOT NULL DEFAULT now(),
      -- After this the key is unusable, and the worker's sweeper erases it (a terminated workflow).
      expires_at timestamptz NOT NULL,
      closed_at  timestamptz,
      CHECK ((outcome IS NULL) = (closed_at IS NULL)),
      CHECK (outcome IS NULL OR sealed_key IS NULL)
    );
    CREATE INDEX e2ee_access_requests_open ON e2ee_access_requests (expires_at) WHERE outcome IS NULL;
  `,
};
