// Retention of the audit trail: whole monthly partitions, never row edits.
//
// audit_log is partitioned by the UTC month of recorded_at. A partition is dropped once its
// whole month lies more than `retentionYears` (default 7) in the past. Because recorded_at never
// decreases along a chain, a partition holds a contiguous stretch of every chain and the oldest
// one is a prefix of each: before dropping it we record, per chain, its last link (shard_seq,
// row_hash) in audit_anchors, where verification restarts the chain.
//
// ensureAuditPartitions may run as the application role (audit_ensure_partition is granted).
// dropExpiredAuditPartitions must run as the table owner (a maintenance job, not the worker):
// the application role can neither detach nor drop, which is the point.

import { inTransaction } from './database';
import type { Database } from './database';

export const DEFAULT_AUDIT_RETENTION_YEARS = 7;

export interface AuditPartition {
  name: string;
  from: Date;
  to: Date;
}

export interface DroppedPartition extends AuditPartition {
  rows: number;
  /** Chains that had rows in it, and so got an anchor. */
  anchors: number;
}

/** First instant of the UTC month `offset` months after the one holding `at`. */
function monthStart(at: Date, offset = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1));
}

/** Creates the partitions of this month and the next `monthsAhead`; returns their names. */
export async function ensureAuditPartitions(
  db: Database,
  now: Date = new Date(),
  monthsAhead = 3,
): Promise<string[]> {
  const names: string[] = [];
  for (let m = 0; m <= monthsAhead; m++) {
    const { rows } = await db.query<{ name: string }>('SELECT audit_ensure_partition($1) AS name', [
      monthStart(now, m),
    ]);
    names.push(rows[0]!.name);
  }
  return names;
}

export async function listAuditPartitions(db: Database): Promise<AuditPartition[]> {
  const { rows } = await db.query<{ name: string; from: Date; to: Date }>(
    `SELECT c.relname AS name, b[1]::timestamptz AS "from", b[2]::timestamptz AS "to"
     FROM pg_inherits i
     JOIN pg_class c ON c.oid = i.inhrelid
     CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid),
       'FROM \\(''([^'']+)''\\) TO \\(''([^'']+)''\\)') b
     WHERE i.inhparent = 'audit_log'::regclass
     ORDER BY 2`,
  );
  return rows;
}

/** The instant before which a whole partition is expired. */
export function retentionCutoff(now: Date, retentionYears: number): Date {
  const cutoff = new Date(now);
  cutoff.setUTCFullYear(cutoff.getUTCFullYear() - retentionYears);
  return cutoff;
}

/**
 * Detaches and drops every partition whose month ended more than `retentionYears` ago, oldest
 * first, each in its own transaction with its anchors. Waits at most `lockTimeoutMs` for the
 * table lock (a long export or verify holds it): better to retry tomorrow than to stall appends
 * queued behind the waiting DETACH.
 */
export async function dropExpiredAuditPartitions(
  db: Database,
  retentionYears: number = DEFAULT_AUDIT_RETENTION_YEARS,
  now: Date = new Date(),
  lockTimeoutMs = 5000,
): Promise<DroppedPartition[]> {
  if (!Number.isInteger(retentionYears) || retentionYears < 1)
    throw new RangeError('retentionYears: a whole number of years, at least 1');
  const cutoff = retentionCutoff(now, retentionYears);
  const expired = (await listAuditPartitions(db)).filter((p) => p.to <= cutoff);
  const dropped: DroppedPartition[] = [];
  for (const partition of expired) {
    await inTransaction(db, async (client) => {
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
      const table = client.escapeIdentifier(partition.name);
      const count = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      const anchors = await client.query(
        `INSERT INTO audit_anchors (shard, shard_seq, row_hash, partition_name, partition_to)
         SELECT DISTINCT ON (shard) shard, shard_seq, row_hash, $1, $2 FROM ${table}
         ORDER BY shard, shard_seq DESC`,
        [partition.name, partition.to],
      );
      await client.query(`ALTER TABLE audit_log DETACH PARTITION ${table}`);
      await client.query(`DROP TABLE ${table}`);
      dropped.push({ ...partition, rows: Number(count.rows[0]?.n ?? 0), anchors: anchors.rowCount ?? 0 });
    });
  }
  return dropped;
}
