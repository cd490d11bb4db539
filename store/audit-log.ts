// The audit trail: append-only metadata of every transition of every message. Never message
// text, media or key material; recipients only as a keyed hash.
//
// Chain layout (full rationale in docs/audit-trail.md):
// - 16 hash chains. A row's chain (shard) is the first byte of SHA-256(message_id) & 15, so all
//   rows of a message share one chain, and writers of different chains never wait on each other.
// - Each chain numbers its rows 1, 2, 3… (shard_seq). prev_hash is the row_hash of the previous
//   row of the chain (64 zeros before the first); row_hash = SHA-256 over a length-prefixed
//   encoding of the row's fields and prev_hash (store/audit-chain.ts, audit_row_hash in SQL).
// - audit_append() in PostgreSQL writes a batch in one round trip: locks the chains' head rows in
//   shard order, skips entries whose (message_id, seq) exists (a retried activity adds nothing),
//   hashes, inserts, advances the heads. The app role can call it but cannot INSERT directly.
//   It calls it through audit_append_rows() (store/audit-new-rows.ts), which answers which rows
//   were new: a retried write's outcome is then counted once (metrics).
// - audit_log is partitioned by month of recorded_at (assigned under the chain lock, never
//   decreasing within a chain): retention drops whole partitions (store/audit-retention.ts).
// - UPDATE, DELETE and TRUNCATE are refused by triggers, even to the table owner, and are not
//   granted to anyone. store/audit-verify.ts recomputes the chains to prove nothing was edited.

import { createHmac } from 'node:crypto';
import type { AuditContext, AuditDetailValue, AuditEntry, HashedAuditContext } from '../domain/audit';
import type { Database } from './database';

/** A row's identity in the trail. */
export interface AuditKey {
  messageId: string;
  seq: number;
}

export interface AuditRow extends AuditEntry {
  tenant: string;
  recipientHash: string;
  region: string;
  flow: string;
  configVersion: string | null;
  recordedAt: string;
  shard: number;
  shardSeq: number;
  rowHash: string;
}

/** Refused input; says which field, never the value (it could be a number or a text). */
export class AuditInputError extends Error {
  override readonly name = 'AuditInputError';
}

export interface AuditLogOptions {
  /**
   * Stamp rows with this clock instead of the database's. Only for tests of retention: it calls
   * audit_append_rows_at(), which the application role is not granted.
   */
  recordedAt?: () => Date;
}

interface StoredRow {
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
  detail: Record<string, AuditDetailValue>;
  config_version: string | null;
  occurred_at: Date;
  recorded_at: Date;
  shard: number;
  shard_seq: string;
  row_hash: string;
}

/** An entry as audit_append() takes it; refuses a malformed one naming the field. */
export function toEntryJson(e: AuditEntry): Record<string, unknown> {
  if (typeof e.messageId !== 'string' || e.messageId.length === 0)
    throw new AuditInputError('messageId: a non-empty string');
  if (!Number.isInteger(e.seq) || e.seq < 0 || e.seq > 2_147_483_647)
    throw new AuditInputError('seq: an integer from 0');
  const occurred = new Date(e.occurredAt);
  if (Number.isNaN(occurred.getTime())) throw new AuditInputError('occurredAt: an ISO 8601 timestamp');
  const fromDetail = e.detail?.configVersion;
  const version =
    e.configVersion ?? (typeof fromDetail === 'string' || typeof fromDetail === 'number' ? fromDetail : null);
  return {
    messageId: e.messageId,
    seq: e.seq,
    event: e.event,
    channel: e.channel,
    result: e.result,
    errorCode: e.errorCode,
    detail: e.detail ?? {},
    configVersion: version === null ? null : String(version),
    occurredAt: occurred.toISOString(),
  };
}

export class AuditLog {
  constructor(
    private readonly db: Database,
    private readonly recipientHashKey: string,
    private readonly options: AuditLogOptions = {},
  ) {}

  /** Keyed, so the table alone does not reveal numbers but a legal request holding the key can. */
  hashRecipient(e164: string): string {
    return createHmac('sha256', this.recipientHashKey).update(e164).digest('hex');
  }

  /** Appends entries, chained; returns the rows that were new (none when all were there already). */
  async append(context: AuditContext, entries: AuditEntry[]): Promise<AuditKey[]> {
    return this.appendHashed(
      {
        tenant: context.tenant,
        recipientHash: this.hashRecipient(context.recipient),
        region: context.region,
        flow: context.flow,
      },
      entries,
    );
  }

  async appendHashed(context: HashedAuditContext, entries: AuditEntry[]): Promise<AuditKey[]> {
    if (entries.length === 0) return [];
    const params: unknown[] = [JSON.stringify(context), JSON.stringify(entries.map(toEntryJson))];
    const clock = this.options.recordedAt;
    const sql = clock
      ? 'SELECT message_id, seq FROM audit_append_rows_at($1::jsonb, $2::jsonb, $3)'
      : 'SELECT message_id, seq FROM audit_append_rows($1::jsonb, $2::jsonb)';
    if (clock) params.push(clock());
    const { rows } = await this.db.query<{ message_id: string; seq: number }>(sql, params);
    return rows.map((r) => ({ messageId: r.message_id, seq: r.seq }));
  }

  async hasEntry(messageId: string, seq: number): Promise<boolean> {
    const { rowCount } = await this.db.query('SELECT 1 FROM audit_log WHERE message_id = $1 AND seq = $2', [
      messageId,
      seq,
    ]);
    return (rowCount ?? 0) > 0;
  }

  /** The highest seq of a trail (0 for none): where a trail continued by another writer goes on. */
  async lastSeq(messageId: string): Promise<number> {
    const { rows } = await this.db.query<{ seq: number | null }>(
      'SELECT max(seq) AS seq FROM audit_log WHERE message_id = $1',
      [messageId],
    );
    return rows[0]?.seq ?? 0;
  }

  async forMessage(messageId: string): Promise<AuditRow[]> {
    const { rows } = await this.db.query<StoredRow>(
      `SELECT message_id, seq, tenant, recipient_hash, region, flow, event, channel, result, error_code,
              detail, config_version, occurred_at, recorded_at, shard, shard_seq, row_hash
       FROM audit_log WHERE message_id = $1 ORDER BY seq`,
      [messageId],
    );
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
      configVersion: r.config_version,
      occurredAt: r.occurred_at.toISOString(),
      recordedAt: r.recorded_at.toISOString(),
      shard: r.shard,
      shardSeq: Number(r.shard_seq),
      rowHash: r.row_hash,
    }));
  }
}
