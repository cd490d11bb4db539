// The receipt inbox: every SMPP receipt and RBM event is written here before the carrier is
// answered, then delivered to its workflow by the dispatcher (channels/receipts/). A receipt is
// therefore never held only in memory: a Temporal or PostgreSQL outage delays it, never loses it.
import type { Database } from './database';
import type { SmsPartKey } from './sms-submissions';

// Listed in store/migrations.ts.
export const receiptInboxMigration = {
  id: 13,
  name: 'receipt inbox',
  sql: `
    -- One row per receipt (SMS: an SMSC id and state) or RBM event (an RBM message id and eventId).
    -- A carrier's redelivery hits the unique key and is dropped. No number is stored.
    CREATE TABLE receipt_inbox (
      id               bigserial   PRIMARY KEY,
      kind             text        NOT NULL CHECK (kind IN ('sms', 'rcs')),
      -- Where it came from: the region of the SMPP bind, the RBM agent id.
      connector        text        NOT NULL,
      -- SMS: normaliseSmscId of the receipt's id. RCS: the RBM message id.
      external_id      text        NOT NULL,
      -- SMS: the receipt state (DELIVRD...). RCS: the eventType.
      event            text        NOT NULL,
      -- RCS: the eventId; '' for SMS, whose key is (id, state).
      event_id         text        NOT NULL DEFAULT '',
      error_code       text,
      received_at      timestamptz NOT NULL DEFAULT now(),
      status           text        NOT NULL DEFAULT 'pending'
                                   CHECK (status IN ('pending', 'delivered', 'late', 'orphaned')),
      attempts         integer     NOT NULL DEFAULT 0,
      next_attempt_at  timestamptz NOT NULL DEFAULT now(),
      -- Unmapped so far: retried when a new mapping row appears (or by the slow sweep).
      awaiting_mapping boolean     NOT NULL DEFAULT false,
      workflow_id      text,
      settled_at       timestamptz,
      UNIQUE (kind, connector, external_id, event, event_id)
    );
    CREATE INDEX receipt_inbox_due ON receipt_inbox (next_attempt_at) WHERE status = 'pending';

    -- Wakes the dispatchers (LISTEN receipt_inbox): a new receipt, or a new mapping that a
    -- waiting receipt may belong to. Per statement: one notification per batch of rows.
    CREATE FUNCTION receipt_inbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('receipt_inbox', TG_ARGV[0]);
      RETURN NULL;
    END $$;
    CREATE TRIGGER receipt_inbox_new AFTER INSERT ON receipt_inbox
      FOR EACH STATEMENT EXECUTE FUNCTION receipt_inbox_notify('receipt');
    CREATE TRIGGER receipt_inbox_sms_mapping AFTER INSERT OR UPDATE ON sms_submissions
      FOR EACH STATEMENT EXECUTE FUNCTION receipt_inbox_notify('mapping');
    CREATE TRIGGER receipt_inbox_rcs_mapping AFTER INSERT OR UPDATE ON rcs_sends
      FOR EACH STATEMENT EXECUTE FUNCTION receipt_inbox_notify('mapping');
  `,
};

export const RECEIPT_INBOX_CHANNEL = 'receipt_inbox';

export type InboxKind = 'sms' | 'rcs';
export type InboxStatus = 'pending' | 'delivered' | 'late' | 'orphaned';

/** What a carrier told us, as written on intake. */
export interface InboxReceipt {
  kind: InboxKind;
  connector: string;
  externalId: string;
  event: string;
  /** RBM eventId; SMS receipts have none. */
  eventId?: string;
  errorCode: string | null;
  /** SMS: the keyed hash of the deliver_sm's source_addr (empty: not given). */
  recipientHash?: Buffer;
}

export interface InboxRow extends Required<InboxReceipt> {
  id: string;
  attempts: number;
  receivedAt: Date;
}

interface Row {
  id: string;
  kind: InboxKind;
  connector: string;
  external_id: string;
  event: string;
  event_id: string;
  error_code: string | null;
  recipient_hash: Buffer;
  attempts: number;
  received_at: Date;
}

export class ReceiptInbox {
  constructor(private readonly db: Database) {}

  /** Resolves once the receipt is durable; false when it was there already (a redelivery). */
  async record(receipt: InboxReceipt): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `INSERT INTO receipt_inbox (kind, connector, external_id, event, event_id, error_code, recipient_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (kind, connector, external_id, event, event_id, recipient_hash) DO NOTHING`,
      [
        receipt.kind,
        receipt.connector,
        receipt.externalId,
        receipt.event,
        receipt.eventId ?? '',
        receipt.errorCode,
        receipt.recipientHash ?? Buffer.alloc(0),
      ],
    );
    return rowCount === 1;
  }

  /**
   * Claims up to `limit` due rows for this dispatcher: each is leased for `leaseMs` (a dispatcher
   * that dies mid-delivery leaves it to the next), and rows another dispatcher is claiming are skipped.
   */
  async claimDue(limit: number, leaseMs: number): Promise<InboxRow[]> {
    const { rows } = await this.db.query<Row>(
      `UPDATE receipt_inbox SET attempts = attempts + 1,
              next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
       WHERE id IN (
         SELECT id FROM receipt_inbox WHERE status = 'pending' AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, kind, connector, external_id, event, event_id, error_code, recipient_hash, attempts,
                 received_at`,
      [limit, leaseMs],
    );
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      connector: r.connector,
      externalId: r.external_id,
      event: r.event,
      eventId: r.event_id,
      errorCode: r.error_code,
      recipientHash: r.recipient_hash,
      attempts: r.attempts,
      receivedAt: r.received_at,
    }));
  }

  /**
   * How long until the earliest pending row is due (0: due now), or null when none is pending. The
   * dispatcher sleeps exactly that long, so a retry, an expired lease or a waiting receipt is taken
   * when the database says it is due, whatever this process's timers think.
   */
  async msUntilNextDue(): Promise<number | null> {
    const { rows } = await this.db.query<{ ms: number | null }>(
      `SELECT GREATEST(0, EXTRACT(EPOCH FROM min(next_attempt_at) - now()) * 1000)::float8 AS ms
       FROM receipt_inbox WHERE status = 'pending'`,
    );
    return rows[0]?.ms ?? null;
  }

  /** Makes every receipt waiting for a mapping due now. */
  async wakeAwaitingMapping(): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE receipt_inbox SET next_attempt_at = now(), awaiting_mapping = false
       WHERE status = 'pending' AND awaiting_mapping`,
    );
    return rowCount ?? 0;
  }

  /** Not mapped yet: tried again on the next new mapping, or after `sweepMs`. */
  async awaitMapping(id: string, sweepMs: number): Promise<void> {
    await this.db.query(
      `UPDATE receipt_inbox SET awaiting_mapping = true,
              next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
       WHERE id = $1 AND status = 'pending'`,
      [id, sweepMs],
    );
  }

  /** Mapped but not delivered (Temporal unreachable): tried again after `delayMs`. */
  async retryLater(id: string, workflowId: string, delayMs: number): Promise<void> {
    await this.db.query(
      `UPDATE receipt_inbox SET workflow_id = $2,
              next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
       WHERE id = $1 AND status = 'pending'`,
      [id, workflowId, delayMs],
    );
  }

  /**
   * Done with: delivered, late (its workflow had finished) or orphaned (never mapped). `finalFor`:
   * the SMS part this final receipt belonged to, which from now on claims no other receipt; marked
   * in the same statement, so a receipt is never settled without its part (or the reverse).
   */
  async settle(
    id: string,
    status: Exclude<InboxStatus, 'pending'>,
    workflowId: string | null,
    finalFor: SmsPartKey | null = null,
  ): Promise<void> {
    await this.db.query(
      `WITH settled AS (
         UPDATE receipt_inbox SET status = $2, workflow_id = $3, settled_at = now()
         WHERE id = $1 AND status = 'pending' RETURNING id
       )
       UPDATE sms_submissions SET final_receipt_at = now()
       WHERE EXISTS (SELECT 1 FROM settled) AND final_receipt_at IS NULL
         AND connector = $4 AND smsc_message_id = $5 AND message_id = $6 AND part = $7`,
      [
        id,
        status,
        workflowId,
        finalFor?.connector ?? null,
        finalFor?.smscMessageId ?? null,
        finalFor?.messageId ?? null,
        finalFor?.part ?? null,
      ],
    );
  }

  /** Rows per status, for tests and operators. */
  async countByStatus(): Promise<Record<InboxStatus, number>> {
    const { rows } = await this.db.query<{ status: InboxStatus; n: string }>(
      'SELECT status, count(*) AS n FROM receipt_inbox GROUP BY status',
    );
    const counts: Record<InboxStatus, number> = { pending: 0, delivered: 0, late: 0, orphaned: 0 };
    for (const r of rows) counts[r.status] = Number(r.n);
    return counts;
  }
}
