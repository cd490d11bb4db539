// Housekeeping of the status events outbox, from the worker's periodic sweep
// (workers/status-callbacks.ts): what would otherwise stay pending or stored forever.
import type { Database } from './database';

/**
 * A read held for an outcome that never came (written over `heldForMs` ago) is given up
 * ('NO_OUTCOME'); settled events older than `retentionDays` are deleted (the audit trail keeps
 * what happened to each message).
 */
export async function sweepStatusEvents(
  db: Database,
  heldForMs: number,
  retentionDays: number,
): Promise<{ expired: number; deleted: number }> {
  const expired = await db.query(
    `UPDATE status_events SET state = 'undeliverable', settled_at = now(), last_error = 'NO_OUTCOME'
     WHERE state = 'pending' AND seq IS NULL AND created_at < now() - $1 * interval '1 millisecond'`,
    [heldForMs],
  );
  const deleted = await db.query(
    `DELETE FROM status_events WHERE state <> 'pending' AND settled_at < now() - $1 * interval '1 day'`,
    [retentionDays],
  );
  return { expired: expired.rowCount ?? 0, deleted: deleted.rowCount ?? 0 };
}
