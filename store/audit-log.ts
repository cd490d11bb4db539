import { createHmac } from 'node:crypto';
import type { Database } from './database';

/** One transition of one message. Metadata only: never text, media or key material. */
export interface AuditEntry {
  messageId: string;
  /** Position in the message's own trail; (messageId, seq) makes a retried write a no-op. */
  seq: number;
  event: string;
  channel: string | null;
  result: string | null;
  errorCode: string | null;
  detail: Record<string, string | number | boolean | null>;
  occurredAt: string;
}

export interface AuditContext {
  tenant: string;
  recipient: string;
  region: string;
  flow: string;
}

export interface AuditRow extends AuditEntry {
  tenant: string;
  recipientHash: string;
  region: string;
  flow: string;
}

export class AuditLog {
  constructor(
    private readonly db: Database,
    private readonly recipientHashKey: string,
  ) {}

  /** Keyed, so the table alone does not reveal numbers but a legal request holding the key can. */
  hashRecipient(e164: string): string {
    return createHmac('sha256', this.recipientHashKey).update(e164).digest('hex');
  }

  async append(context: AuditContext, entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const hash = this.hashRecipient(context.recipient);
    const values: unknown[] = [];
    const tuples = entries.map((e) => {
      const first = values.length;
      values.push(
        e.messageId,
        e.seq,
        context.tenant,
        hash,
        context.region,
        context.flow,
        e.event,
        e.channel,
        e.result,
        e.errorCode,
        JSON.stringify(e.detail),
        e.occurredAt,
      );
      return `(${Array.from({ length: values.length - first }, (_, k) => `$${first + k + 1}`).join(', ')})`;
    });
    await this.db.query(
      `INSERT INTO audit_log (message_id, seq, tenant, recipient_hash, region, flow, event, channel, result,
         error_code, detail, occurred_at)
       VALUES ${tuples.join(', ')}
       ON CONFLICT (message_id, seq) DO NOTHING`,
      values,
    );
  }

  async forMessage(messageId: string): Promise<AuditRow[]> {
    const { rows } = await this.db.query<{
      message_id: string;
      seq: number;
      tenant: string;
      recipient_hash: string;
      region: string;
      flow: string;
      event: string;
      channel: string | null;
      result: string | null;
      error_code: string | null;
      detail: Record<string, string | number | boolean | null>;
      occurred_at: Date;
    }>('SELECT * FROM audit_log WHERE message_id = $1 ORDER BY seq', [messageId]);
    return rows.map((r) => ({
      messageId: r.message_id,
      seq: r.seq,
      tenant: r.tenant,
      recipientHash: r.recipient_hash,
      region: r.region,
      flow: r.flow,
      event: r.event,
      channel: r.channel,
      result: r.result,
      errorCode: r.error_code,
      detail: r.detail,
      occurredAt: r.occurred_at.toISOString(),
    }));
  }
}
