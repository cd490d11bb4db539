// The outbox of status callbacks (schema and rationale: store/status-events-schema.ts). As an
// AuditSink it appends a message's audit rows and their status events in one statement; the
// callback sender claims, acknowledges, retries and gives up on rows here.
import type { AuditContext, AuditEntry } from '../domain/audit';
import type { StatusEvent, StatusEventStatus } from '../domain/status-event';
import { statusEventOf } from '../domain/status-event';
import type { FallbackReason } from '../domain/message';
import type { AuditKey, AuditLog } from './audit-log';
import { toEntryJson } from './audit-log';
import type { Database } from './database';

/** A claimed event: where it goes, whose secret signs it, and the body to send. */
export interface OutboxEvent {
  id: string;
  tenant: string;
  url: string;
  attempts: number;
  createdAt: Date;
  event: StatusEvent;
}

export type ReadRecord = 'recorded' | 'held' | 'duplicate' | 'untracked';

interface ClaimedRow {
  id: string;
  event_id: string;
  message_id: string;
  seq: number;
  tenant: string;
  url: string;
  status: StatusEventStatus;
  channel: 'rcs' | 'sms' | null;
  fallback_reason: FallbackReason | null;
  error_code: string | null;
  occurred_at: Date;
  created_at: Date;
  attempts: number;
}

export class StatusEventOutbox {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
  ) {}

  /** The AuditSink the delivery activities write through. */
  async append(context: AuditContext, entries: AuditEntry[]): Promise<AuditKey[]> {
    const events = entries.flatMap((e) => {
      const draft = statusEventOf(e);
      return draft ? [{ ...draft, messageId: e.messageId }] : [];
    });
    if (events.length === 0) return this.audit.append(context, entries);
    const hashed = {
      tenant: context.tenant,
      recipientHash: this.audit.hashRecipient(context.recipient),
      region: context.region,
      flow: context.flow,
    };
    const { rows } = await this.db.query<{ message_id: string; seq: number }>(
      'SELECT message_id, seq FROM audit_append_with_status_events($1::jsonb, $2::jsonb, $3::jsonb, $4)',
      [
        JSON.stringify(hashed),
        JSON.stringify(entries.map(toEntryJson)),
        JSON.stringify(events),
        context.statusCallbackUrl ?? null,
      ],
    );
    return rows.map((r) => ({ messageId: r.message_id, seq: r.seq }));
  }

  hasEntry(messageId: string, seq: number): Promise<boolean> {
    return this.audit.hasEntry(messageId, seq);
  }

  /** An RBM READ: 'untracked' when no event of the message is known (none wanted, or not written yet). */
  async recordRead(rbmMessageId: string, occurredAt: Date): Promise<ReadRecord> {
    const { rows } = await this.db.query<{ r: ReadRecord }>('SELECT status_event_read($1, $2) AS r', [
      rbmMessageId,
      occurredAt,
    ]);
    return rows[0]?.r ?? 'untracked';
  }

  /**
   * Up to `limit` due events, each the lowest pending one of its message (so n+1 never goes
   * before n is settled), leased for `leaseMs`: another sender skips them, and a sender that
   * dies leaves them to be claimed again when the lease runs out (at least once).
   */
  async claim(limit: number, leaseMs: number): Promise<OutboxEvent[]> {
    const { rows } = await this.db.query<ClaimedRow>(
      `UPDATE status_events s SET attempts = s.attempts + 1,
              next_attempt_at = now() + $2 * interval '1 millisecond'
       WHERE s.id IN (
         SELECT e.id FROM status_events e
         WHERE e.id IN (SELECT DISTINCT ON (h.message_id) h.id FROM status_events h
                        WHERE h.state = 'pending' AND h.seq IS NOT NULL ORDER BY h.message_id, h.seq)
           AND e.next_attempt_at <= now()
         ORDER BY e.next_attempt_at LIMIT $1
         FOR UPDATE SKIP LOCKED)
       RETURNING s.id, s.event_id, s.message_id, s.seq, s.tenant, s.url, s.status, s.channel,
                 s.fallback_reason, s.error_code, s.occurred_at, s.created_at, s.attempts`,
      [limit, leaseMs],
    );
    return rows.map((r) => ({
      id: r.id,
      tenant: r.tenant,
      url: r.url,
      attempts: r.attempts,
      createdAt: r.created_at,
      event: {
        eventId: r.event_id,
        messageId: r.message_id,
        sequence: r.seq,
        status: r.status,
        channel: r.channel,
        fallbackReason: r.fallback_reason,
        errorCode: r.error_code,
        occurredAt: r.occurred_at.toISOString(),
      },
    }));
  }

  async acknowledged(id: string): Promise<void> {
    await this.settle(id, 'sent', null);
  }

  async retryIn(id: string, delayMs: number, error: string): Promise<void> {
    await this.db.query(
      `UPDATE status_events SET next_attempt_at = now() + $2 * interval '1 millisecond', last_error = $3
       WHERE id = $1 AND state = 'pending'`,
      [id, delayMs, error],
    );
  }

  /** The retry budget is spent (or the URL is refused): the message's next event may go. */
  async undeliverable(id: string, error: string): Promise<void> {
    await this.settle(id, 'undeliverable', error);
  }

  /** Events waiting to be sent (the outbox depth gauge). */
  async depth(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM status_events WHERE state = 'pending'",
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** A message's events as stored, in order (tests, support). */
  async forMessage(messageId: string): Promise<Array<{ seq: number | null; status: string; state: string }>> {
    const { rows } = await this.db.query<{ seq: number | null; status: string; state: string }>(
      'SELECT seq, status, state FROM status_events WHERE message_id = $1 ORDER BY seq NULLS LAST',
      [messageId],
    );
    return rows;
  }

  private async settle(id: string, state: 'sent' | 'undeliverable', error: string | null): Promise<void> {
    await this.db.query(
      `UPDATE status_events SET state = $2, settled_at = now(), last_error = COALESCE($3, last_error)
       WHERE id = $1 AND state = 'pending'`,
      [id, state, error],
    );
  }
}
