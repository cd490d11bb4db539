import type { Database } from './database';

export interface SmsSubmissionRecord {
  smscMessageId: string;
  messageId: string;
  workflowId: string;
  part: number;
  parts: number;
}

/** Maps SMSC message ids back to our messages, so receipts find their workflow. */
export class SmsSubmissions {
  constructor(private readonly db: Database) {}

  async record(records: SmsSubmissionRecord[]): Promise<void> {
    if (records.length === 0) return;
    const values: unknown[] = [];
    const tuples = records.map((r) => {
      const b = values.length;
      values.push(r.smscMessageId, r.messageId, r.workflowId, r.part, r.parts);
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5})`;
    });
    await this.db.query(
      `INSERT INTO sms_submissions (smsc_message_id, message_id, workflow_id, part, parts)
       VALUES ${tuples.join(', ')} ON CONFLICT (smsc_message_id) DO NOTHING`,
      values,
    );
  }

  /** Finds the submission under any of the id's spellings (SMSCs mix hex and decimal). */
  async find(candidates: string[]): Promise<SmsSubmissionRecord | null> {
    const { rows } = await this.db.query<{
      smsc_message_id: string;
      message_id: string;
      workflow_id: string;
      part: number;
      parts: number;
    }>('SELECT * FROM sms_submissions WHERE smsc_message_id = ANY($1) LIMIT 1', [candidates]);
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

  async forMessage(messageId: string): Promise<SmsSubmissionRecord[]> {
    const { rows } = await this.db.query<{
      smsc_message_id: string;
      message_id: string;
      workflow_id: string;
      part: number;
      parts: number;
    }>('SELECT * FROM sms_submissions WHERE message_id = $1 ORDER BY part', [messageId]);
    return rows.map((r) => ({
      smscMessageId: r.smsc_message_id,
      messageId: r.message_id,
      workflowId: r.workflow_id,
      part: r.part,
      parts: r.parts,
    }));
  }
}
