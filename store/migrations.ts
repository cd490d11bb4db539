// Schema changes, applied in order, once each, under an advisory lock so that several workers
// starting together do not race. Append new entries; never edit an applied one.

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'audit log',
    sql: `
      CREATE TABLE audit_log (
        id             bigserial PRIMARY KEY,
        message_id     text        NOT NULL,
        seq            integer     NOT NULL,
        tenant         text        NOT NULL,
        recipient_hash text        NOT NULL,
        region         text        NOT NULL,
        flow           text        NOT NULL,
        event          text        NOT NULL,
        channel        text,
        result         text,
        error_code     text,
        detail         jsonb       NOT NULL DEFAULT '{}'::jsonb,
        occurred_at    timestamptz NOT NULL,
        recorded_at    timestamptz NOT NULL DEFAULT now(),
        UNIQUE (message_id, seq)
      );
      CREATE INDEX audit_log_recipient ON audit_log (recipient_hash, occurred_at);

      -- Append-only, enforced by the database itself rather than by our code.
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
    `,
  },
  {
    id: 2,
    name: 'sms submissions',
    sql: `
      -- Written before a submit is acknowledged to the workflow, so that a receipt arriving on
      -- any bind, or after a worker restart, still finds its message.
      CREATE TABLE sms_submissions (
        smsc_message_id text        PRIMARY KEY,
        message_id      text        NOT NULL,
        workflow_id     text        NOT NULL,
        part            integer     NOT NULL,
        parts           integer     NOT NULL,
        submitted_at    timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX sms_submissions_message ON sms_submissions (message_id);
    `,
  },
  {
    id: 3,
    name: 'capability cache',
    sql: `
      -- The RCS capability tier shared by all workers. Keyed by HMAC-SHA256 of the number, never
      -- the number; capabilities NULL means the hub answered 404 (not an RCS user). No index on
      -- fetched_at: every refresh rewrites it, and the occasional purge can afford a scan.
      CREATE TABLE capability_cache (
        msisdn_hash  text        PRIMARY KEY,
        capabilities jsonb       NULL,
        fetched_at   timestamptz NOT NULL
      );
    `,
  },
];
