// The SMS side's two records in PostgreSQL:
// - sms_parts: one row per part of a message, the submit activity's intent and its outcome. A part
//   is 'submitting' from just before its submit_sm goes out until its submit_sm_resp is recorded,
//   then 'accepted' with its SMSC id. A retried activity skips accepted parts and resubmits the
//   others: a 'submitting' part may or may not have reached the SMSC (README, "Duplicate SMS").
// - sms_submissions: SMSC id → message, written in the same statement as the acceptance and before
//   the activity returns, so a receipt arriving on any bind, or after a worker restart, finds its
//   workflow. A part resubmitted after an unknowable outcome can have several ids here.
// SMSC ids are stored as normaliseSmscId gives them; find() accepts any spelling of a receipt id.
import { normaliseSmscId } from '../channels/sms/delivery-receipt';
import type { Database } from './database';

// Listed in store/migrations.ts.
export const smsReceiptMatchingMigration = {
  id: 22,
  name: 'SMS receipts matched on connector, id and number',
  sql: `
    -- SMSC ids are not unique: an SMSC reuses them after a rebind or when its counter wraps, and two
    -- connectors hand out the same ids. A submission is now keyed by its connector, id and part, and
    -- carries the keyed hash of its number; a part whose final receipt is in claims no other.
    -- Rows from before have connector '' and an empty hash: they match any.
    ALTER TABLE sms_submissions DROP CONSTRAINT sms_submissions_pkey;
    ALTER TABLE sms_submissions
      ADD COLUMN connector        text        NOT NULL DEFAULT '',
      ADD COLUMN recipient_hash   bytea       NOT NULL DEFAULT ''::bytea,
      ADD COLUMN final_receipt_at timestamptz;
    ALTER TABLE sms_submissions ADD PRIMARY KEY (connector, smsc_message_id, message_id, part);
    CREATE INDEX sms_submissions_receipt ON sms_submissions (smsc_message_id, submitted_at DESC);

    -- The same id and state for two numbers are two receipts, not a redelivery.
    ALTER TABLE receipt_inbox ADD COLUMN recipient_hash bytea NOT NULL DEFAULT ''::bytea;
    DO $$
    DECLARE old_key text;
    BEGIN
      SELECT conname INTO old_key FROM pg_constraint
      WHERE conrelid = 'receipt_inbox'::regclass AND contype = 'u';
      EXECUTE format('ALTER TABLE receipt_inbox DROP CONSTRAINT %I', old_key);
    END $$;
    ALTER TABLE receipt_inbox ADD CONSTRAINT receipt_inbox_receipt_key
      UNIQUE (kind, connector, external_id, event, event_id, recipient_hash);
  `,
};

export type SmsPartState = 'submitting' | 'accepted';

interface PartFields {
  messageId: string;
  workflowId: string;
  /** 1-based, as in the concatenation UDH. */
  part: number;
  parts: number;
}

/**
 * One part's state. `record` takes 'submitting' (intent, before submit_sm) or 'accepted' (with the
 * id from submit_sm_resp; `state` may be left out then); `forMessage` returns both kinds.
 */
export type SmsSubmissionRecord =
  | (PartFields & { state: 'submitting'; smscMessageId: null })
  | (PartFields & { state?: 'accepted'; smscMessageId: string } & Partial<SmsRecipient>);

/** Where an accepted part went: its SMSC (connector) and the keyed hash of its number. */
export interface SmsRecipient {
  connector: string;
  recipientHash: Buffer;
}

/** One submission of one part: what a final receipt marks. */
export interface SmsPartKey {
  connector: string;
  smscMessageId: string;
  messageId: string;
  part: number;
}

/** What a receipt's SMSC id leads to. */
export interface SmsSubmissionMatch extends PartFields {
  /** As stored: the spelling the submit activity returned to the workflow. */
  smscMessageId: string;
  connector: string;
}

interface PartRow {
  message_id: string;
  workflow_id: string;
  part: number;
  parts: number;
  state: SmsPartState;
  smsc_message_id: string | null;
}

interface SubmissionRow {
  connector: string;
  smsc_message_id: string;
  message_id: string;
  workflow_id: string;
  part: number;
  parts: number;
}

function columns(records: PartFields[]): [string[], string[], number[], number[]] {
  return [
    records.map((r) => r.messageId),
    records.map((r) => r.workflowId),
    records.map((r) => r.part),
    records.map((r) => r.parts),
  ];
}

type Accepted = PartFields & { smscMessageId: string } & Partial<SmsRecipient>;

/** Maps SMSC message ids back to our messages, and keeps each part's submit state. */
export class SmsSubmissions {
  constructor(private readonly db: Database) {}

  /** Writes each record's state; every statement is atomic on its own and safe to repeat. */
  async record(records: SmsSubmissionRecord[]): Promise<void> {
    const submitting = records.filter((r) => r.state === 'submitting');
    const accepted = records.filter((r): r is Accepted => r.state !== 'submitting');
    if (submitting.length > 0) await this.markSubmitting(submitting);
    if (accepted.length > 0) await this.markAccepted(accepted);
  }

  /**
   * The intent, before the part's submit_sm. An accepted part stays accepted (a concurrent retry
   * lost the race), unless the text now splits into another number of parts.
   */
  private async markSubmitting(records: PartFields[]): Promise<void> {
    await this.db.query(
      `INSERT INTO sms_parts (message_id, workflow_id, part, parts, state)
       SELECT message_id, workflow_id, part, parts, 'submitting'
       FROM unnest($1::text[], $2::text[], $3::int[], $4::int[]) AS t(message_id, workflow_id, part, parts)
       ON CONFLICT (message_id, part) DO UPDATE
         SET state = 'submitting', smsc_message_id = NULL, parts = EXCLUDED.parts,
             workflow_id = EXCLUDED.workflow_id, submits = sms_parts.submits + 1, updated_at = now()
         WHERE sms_parts.state = 'submitting' OR sms_parts.parts <> EXCLUDED.parts`,
      columns(records),
    );
  }

  /** The SMSC's answer: the part becomes accepted and its id routable, in one statement. */
  private async markAccepted(records: Accepted[]): Promise<void> {
    const ids = records.map((r) => normaliseSmscId(r.smscMessageId));
    await this.db.query(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::bytea[])
           AS t(message_id, workflow_id, part, parts, smsc_message_id, connector, recipient_hash)
       ), parts AS (
         INSERT INTO sms_parts (message_id, workflow_id, part, parts, state, smsc_message_id)
         SELECT message_id, workflow_id, part, parts, 'accepted', smsc_message_id FROM input
         ON CONFLICT (message_id, part) DO UPDATE
           SET state = 'accepted', smsc_message_id = EXCLUDED.smsc_message_id, parts = EXCLUDED.parts,
               updated_at = now()
           WHERE sms_parts.state = 'submitting' OR sms_parts.parts <> EXCLUDED.parts
       )
       -- An SMSC that recycles its ids: every submission keeps its row; find() picks among them.
       INSERT INTO sms_submissions
         (smsc_message_id, message_id, workflow_id, part, parts, connector, recipient_hash)
       SELECT smsc_message_id, message_id, workflow_id, part, parts, connector, recipient_hash
       FROM input WHERE smsc_message_id <> ''
       ON CONFLICT (connector, smsc_message_id, message_id, part) DO NOTHING`,
      [
        ...columns(records),
        ids,
        records.map((r) => r.connector ?? ''),
        records.map((r) => r.recipientHash ?? Buffer.alloc(0)),
      ],
    );
  }

  /**
   * The submission a receipt belongs to: one of its id's spellings (SMSCs mix hex and decimal, case
   * and zero padding), on its connector, to its number. Of several (an id reused), the newest part
   * still waiting for its final receipt; a final receipt never goes to a part that has one already
   * (null: it waits for a newer submission to claim it). Rows from before connectors and numbers
   * were recorded match any connector and number, and so does a receipt without a source_addr.
   */
  async find(
    candidates: string[],
    from: SmsRecipient = { connector: '', recipientHash: Buffer.alloc(0) },
    final = false,
  ): Promise<SmsSubmissionMatch | null> {
    // Rows written before ids were normalised hold the id as the SMSC gave it: look for both.
    const spellings = [...new Set([...candidates, ...candidates.map(normaliseSmscId)])];
    const { rows } = await this.db.query<SubmissionRow>(
      `SELECT connector, smsc_message_id, message_id, workflow_id, part, parts FROM sms_submissions
       WHERE smsc_message_id = ANY($1)
         AND ($2 = '' OR connector IN ($2, ''))
         AND (length($3::bytea) = 0 OR recipient_hash IN ($3::bytea, ''::bytea))
         AND NOT ($4 AND final_receipt_at IS NOT NULL)
       ORDER BY final_receipt_at IS NULL DESC, submitted_at DESC, array_position($1, smsc_message_id)
       LIMIT 1`,
      [spellings, from.connector, from.recipientHash, final],
    );
    const r = rows[0];
    return r
      ? {
          connector: r.connector,
          smscMessageId: r.smsc_message_id,
          messageId: r.message_id,
          workflowId: r.workflow_id,
          part: r.part,
          parts: r.parts,
        }
      : null;
  }

  async forMessage(messageId: string): Promise<SmsSubmissionRecord[]> {
    const { rows } = await this.db.query<PartRow>(
      `SELECT message_id, workflow_id, part, parts, state, smsc_message_id FROM sms_parts
       WHERE message_id = $1 ORDER BY part`,
      [messageId],
    );
    return rows.map((r): SmsSubmissionRecord => {
      const fields = { messageId: r.message_id, workflowId: r.workflow_id, part: r.part, parts: r.parts };
      return r.state === 'accepted' && r.smsc_message_id !== null
        ? { ...fields, state: 'accepted', smscMessageId: r.smsc_message_id }
        : { ...fields, state: 'submitting', smscMessageId: null };
    });
  }
}
