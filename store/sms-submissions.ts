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
  | (PartFields & { state?: 'accepted'; smscMessageId: string });

/** What a receipt's SMSC id leads to. */
export interface SmsSubmissionMatch extends PartFields {
  /** As stored: the spelling the submit activity returned to the workflow. */
  smscMessageId: string;
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

/** Maps SMSC message ids back to our messages, and keeps each part's submit state. */
export class SmsSubmissions {
  constructor(private readonly db: Database) {}

  /** Writes each record's state; every statement is atomic on its own and safe to repeat. */
  async record(records: SmsSubmissionRecord[]): Promise<void> {
    const submitting = records.filter((r) => r.state === 'submitting');
    const accepted = records.filter(
      (r): r is PartFields & { state?: 'accepted'; smscMessageId: string } => r.state !== 'submitting',
    );
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
  private async markAccepted(records: Array<PartFields & { smscMessageId: string }>): Promise<void> {
    const ids = records.map((r) => normaliseSmscId(r.smscMessageId));
    await this.db.query(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[])
           AS t(message_id, workflow_id, part, parts, smsc_message_id)
       ), parts AS (
         INSERT INTO sms_parts (message_id, workflow_id, part, parts, state, smsc_message_id)
         SELECT message_id, workflow_id, part, parts, 'accepted', smsc_message_id FROM input
         ON CONFLICT (message_id, part) DO UPDATE
           SET state = 'accepted', smsc_message_id = EXCLUDED.smsc_message_id, parts = EXCLUDED.parts,
               updated_at = now()
           WHERE sms_parts.state = 'submitting' OR sms_parts.parts <> EXCLUDED.parts
       )
       INSERT INTO sms_submissions (smsc_message_id, message_id, workflow_id, part, parts)
       SELECT smsc_message_id, message_id, workflow_id, part, parts FROM input WHERE smsc_message_id <> ''
       -- An SMSC that recycles its ids: the latest message owns the id.
       ON CONFLICT (smsc_message_id) DO UPDATE
         SET message_id = EXCLUDED.message_id, workflow_id = EXCLUDED.workflow_id,
             part = EXCLUDED.part, parts = EXCLUDED.parts, submitted_at = now()
         WHERE (sms_submissions.message_id, sms_submissions.part) <> (EXCLUDED.message_id, EXCLUDED.part)`,
      [...columns(records), ids],
    );
  }

  /**
   * The submission a receipt id belongs to, under any of its spellings (SMSCs mix hex and decimal,
   * case and zero padding). Candidates are tried in order: the first one stored wins.
   */
  async find(candidates: string[]): Promise<SmsSubmissionMatch | null> {
    // Rows written before ids were normalised hold the id as the SMSC gave it: look for both.
    const spellings = [...new Set([...candidates, ...candidates.map(normaliseSmscId)])];
    const { rows } = await this.db.query<SubmissionRow>(
      `SELECT smsc_message_id, message_id, workflow_id, part, parts FROM sms_submissions
       WHERE smsc_message_id = ANY($1) ORDER BY array_position($1, smsc_message_id) LIMIT 1`,
      [spellings],
    );
    const r = rows[0];
    return r
      ? {
          smscMessageId: r.smsc_message_id,
          messageId: r.message_id,
          workflowId: r.workflow_id,
          part: r.part,
          parts: r.parts,
        }
      : null;
  }

  /** Every part recorded for the message, in part order. */
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
