import type { Database } from './database';

export interface InboxBacklog {
  /** Pending receipts whose workflow is known, not yet signalled to it. */
  depth: number;
  /** Age of the oldest of those; 0 when there is none. */
  oldestAgeSeconds: number;
}

/**
 * The receipt inbox's backlog (store/receipt-inbox.ts): receipts waiting for the dispatcher.
 * Rows still awaiting their mapping (a receipt that overtook its submit_sm_resp, or one for a
 * message that is not ours) are left out: they wait by design, up to RECEIPT_ORPHAN_AFTER_MS,
 * and would hide a stuck dispatcher behind their age. Served by the partial index on pending rows.
 */
export async function receiptInboxBacklog(db: Database): Promise<InboxBacklog> {
  const { rows } = await db.query<{ depth: string; oldest_age: number | null }>(
    `SELECT count(*) AS depth,
            extract(epoch FROM now() - min(received_at))::double precision AS oldest_age
     FROM receipt_inbox WHERE status = 'pending' AND NOT awaiting_mapping`,
  );
  return { depth: Number(rows[0]?.depth ?? 0), oldestAgeSeconds: Math.max(0, rows[0]?.oldest_age ?? 0) };
}
