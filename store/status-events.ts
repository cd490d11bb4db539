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
  /** The claim's number: settling with it does nothing once another sender claimed the row again. */
  attempts: number;
  createdAt: Date;
  /** When it was first tried (this claim, or an earlier one): the retry budget runs from here. */
  firstAttemptAt: Date;
  event: StatusEvent;
}

/** Which claim settles a row: its id and the attempts the claim returned. */
export type OutboxClaim = Pick<OutboxEvent, 'id' | 'attempts'>;

/** 'unwanted': the message is known and wants no callbacks (final). 'untracked': nothing known yet. */
export type ReadRecord = 'recorded' | 'held' | 'duplicate' | 'untracked' | 'unwanted';

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
  first_attempt_at: Date;
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
   * dies leaves them to be claimed again when the lease runs out (at least once). A tenant gets
   * at most `perTenant` in flight, counting `inFlight` (this sender's POSTs already out), so
   * one tenant's dead receiver cannot take every slot.
   */
  async claim(
    limit: number,
    leaseMs: number,
    fairness: { inFlight: ReadonlyMap<string, number>; perTenant: number } = {
      inFlight: new Map(),
      perTenant: limit,
    },
  ): Promise<OutboxEvent[]> {
    const { rows } = await this.db.query<ClaimedRow>(
      `UPDATE status_events s SET attempts = s.attempts + 1,
              first_attempt_at = COALESCE(s.first_attempt_at, now()),
              next_attempt_at = now() + $2 * interval '1 millisecond'
       WHERE s.id IN (
         SELECT e.id FROM status_events e
         WHERE e.id IN (
           SELECT r.id FROM (
             SELECT d.id, d.next_attempt_at,
                    row_number() OVER (PARTITION BY d.tenant ORDER BY d.next_attempt_at, d.id) AS n,
                    COALESCE(($3::jsonb ->> d.tenant)::integer, 0) AS busy
             FROM status_events d
             WHERE d.id IN (SELECT DISTINCT ON (h.message_id) h.id FROM status_events h
                            WHERE h.state = 'pending' AND h.seq IS NOT NULL ORDER BY h.message_id, h.seq)
               AND d.next_attempt_at <= now()) r
           WHERE r.n + r.busy <= $4)
           -- Checked again here, at the locking level: PostgreSQL re-evaluates these on a row
           -- another sender claimed meanwhile, so it is skipped, not claimed twice.
           AND e.state = 'pending' AND e.next_attempt_at <= now()
         ORDER BY e.next_attempt_at LIMIT $1
         FOR UPDATE SKIP LOCKED)
       RETURNING s.id, s.event_id, s.message_id, s.seq, s.tenant, s.url, s.status, s.channel,
                 s.fallback_reason, s.error_code, s.occurred_at, s.created_at, s.first_attempt_at, s.attempts`,
      [limit, leaseMs, JSON.stringify(Object.fromEntries(fairness.inFlight)), fairness.perTenant],
    );
    return rows.map((r) => ({
      id: r.id,
      tenant: r.tenant,
      url: r.url,
      attempts: r.attempts,
      createdAt: r.created_at,
      firstAttemptAt: r.first_attempt_at,
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

  async acknowledged(claim: OutboxClaim): Promise<void> {
    await this.settle(claim, 'sent', null);
  }

  async retryIn(claim: OutboxClaim, delayMs: number, error: string): Promise<void> {
    await this.db.query(
      `UPDATE status_events SET next_attempt_at = now() + $3 * interval '1 millisecond', last_error = $4
       WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
      [claim.id, claim.attempts, delayMs, error],
    );
  }

  /** The retry budget is spent (or the URL is refused): the message's next event may go. */
  async undeliverable(claim: OutboxClaim, error: string): Promise<void> {
    await this.settle(claim, 'undeliverable', error);
  }

  /** Events waiting to be sent (the outbox depth gauge); a held read is not sendable yet. */
  async depth(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM status_events WHERE state = 'pending' AND seq IS NOT NULL",
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

  private async settle(
    claim: OutboxClaim,
    state: 'sent' | 'undeliverable',
    error: string | null,
  ): Promise<void> {
    await this.db.query(
      `UPDATE status_events SET state = $3, settled_at = now(), last_error = COALESCE($4, last_error)
       WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
      [claim.id, claim.attempts, state, error],
    );
  }
}
