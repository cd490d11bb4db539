// Schema changes, applied in order by migrate() (store/migrate.ts), once each, under an advisory
// lock so that several workers starting together do not race. Append new entries; never edit an
// applied one.

import { auditChainMigration } from './audit-schema';
import { rolloutMigration } from './rollout/migration';
import { rcsSendsMigration } from './rcs-sends';
import { escrowMigration } from './escrow-migration';
import { shortlinksMigration } from './shortlinks';
import { mediaObjectsMigration } from './media-objects';
import { auditNewRowsMigration } from './audit-new-rows';
import { receiptInboxMigration } from './receipt-inbox';
import { tenantWebhooksMigration } from './tenant-webhooks';
import { statusEventsMigration } from './status-events-schema';
import { probeResultsMigration } from './probe-results';
import { apiKeysMigration } from './api-keys';
import { idempotencyRecordsMigration, idempotencyStartedMigration } from './idempotency-records';
import { statusEventsHardeningMigration } from './status-events-hardening';
import { deploymentChangesMigration } from './deployment-changes';
import { smsReceiptMatchingMigration } from './sms-submissions';

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
  auditChainMigration,
  shortlinksMigration,
  {
    id: 6,
    name: 'e2ee key packages',
    sql: `
      -- MLS KeyPackages per device of a number (e2ee/key-directory.ts). The number is stored only
      -- as HMAC-SHA256 under the directory's key. One-time packages are deleted as they are
      -- claimed; each device has at most one last-resort package, handed out but never deleted.
      CREATE TABLE e2ee_key_packages (
        id              bigserial   PRIMARY KEY,
        msisdn_hash     text        NOT NULL,
        device_id       text        NOT NULL,
        key_package     bytea       NOT NULL,
        key_package_ref text        NOT NULL UNIQUE,
        last_resort     boolean     NOT NULL DEFAULT false,
        published_at    timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX e2ee_key_packages_one_time ON e2ee_key_packages (msisdn_hash, device_id, id)
        WHERE NOT last_resort;
      CREATE UNIQUE INDEX e2ee_key_packages_last_resort ON e2ee_key_packages (msisdn_hash, device_id)
        WHERE last_resort;
    `,
  },
  {
    id: 7,
    name: 'sms part intents',
    sql: `
      -- One row per part of an SMS: 'submitting' is written before its submit_sm goes out,
      -- 'accepted' (with the SMSC id, also indexed in sms_submissions) before the activity returns.
      -- A retried activity submits only the parts that are not accepted.
      CREATE TABLE sms_parts (
        message_id      text        NOT NULL,
        part            integer     NOT NULL CHECK (part >= 1),
        parts           integer     NOT NULL CHECK (parts >= part),
        workflow_id     text        NOT NULL,
        state           text        NOT NULL CHECK (state IN ('submitting', 'accepted')),
        smsc_message_id text,
        submits         integer     NOT NULL DEFAULT 1,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (message_id, part),
        CHECK ((state = 'accepted') = (smsc_message_id IS NOT NULL))
      );
      -- Messages recorded before: every row there was accepted (one id per part unless a retry
      -- resent the whole message; then the latest is the one its workflow waits for).
      INSERT INTO sms_parts (message_id, part, parts, workflow_id, state, smsc_message_id, updated_at)
      SELECT DISTINCT ON (message_id, part)
             message_id, part, parts, workflow_id, 'accepted', smsc_message_id, submitted_at
      FROM sms_submissions
      ORDER BY message_id, part, submitted_at DESC;
    `,
  },
  rolloutMigration,
  rcsSendsMigration,
  escrowMigration,
  mediaObjectsMigration,
  auditNewRowsMigration,
  receiptInboxMigration,
  // 14, 15: the REST API's tenants, API keys and idempotency records; 16, 17: status callbacks.
  apiKeysMigration,
  idempotencyRecordsMigration,
  tenantWebhooksMigration,
  statusEventsMigration,
  // 18: the synthetic probes' results.
  probeResultsMigration,
  // 19: whether an idempotency record's message was started.
  idempotencyStartedMigration,
  // 20: the status events' hardening (first attempt, claim binding, grace secrets).
  statusEventsHardeningMigration,
  // 21: which build of the delivery workers takes new messages (worker versioning).
  deploymentChangesMigration,
  // 22: SMS receipts matched on connector, id and number (SMSC ids are not unique).
  smsReceiptMatchingMigration,
];
