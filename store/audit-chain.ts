// The hash-chain encoding, written a second time in TypeScript so that verifying the audit trail
// does not trust the database function that wrote it (audit_row_hash in store/audit-schema.ts).
// Both must stay byte-for-byte the same; the version tag is hashed so a future encoding can
// coexist with this one.

import { createHash } from 'node:crypto';
import { GENESIS_HASH } from './audit-schema';

export { GENESIS_HASH };

export const AUDIT_SHARDS = 16;
export const CHAIN_ENCODING = 'switchboard-audit-v1';

/** The chain a message's rows belong to: all rows of one message share one chain. */
export function shardOf(messageId: string): number {
  return createHash('sha256').update(messageId, 'utf8').digest()[0]! & (AUDIT_SHARDS - 1);
}

/**
 * One stored row in the textual form the hash covers. Numbers and timestamps as PostgreSQL
 * prints them: integers in decimal, timestamps as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`, detail as
 * `jsonb::text` (PostgreSQL's normalised JSON), so nothing depends on a client's parsing.
 */
export interface ChainedRowText {
  shard: string;
  shardSeq: string;
  messageId: string;
  seq: string;
  tenant: string;
  recipientHash: string;
  region: string;
  flow: string;
  event: string;
  channel: string | null;
  result: string | null;
  errorCode: string | null;
  detail: string;
  configVersion: string | null;
  occurredAt: string;
  recordedAt: string;
  prevHash: string;
}

/** NULL is `_`; a value is `<UTF-8 byte length>:<value>`, so no value can fake a boundary. */
function field(value: string | null): string {
  return value === null ? '_' : `${Buffer.byteLength(value, 'utf8')}:${value}`;
}

export function rowHash(row: ChainedRowText): string {
  const encoded = [
    CHAIN_ENCODING,
    row.shard,
    row.shardSeq,
    row.messageId,
    row.seq,
    row.tenant,
    row.recipientHash,
    row.region,
    row.flow,
    row.event,
    row.channel,
    row.result,
    row.errorCode,
    row.detail,
    row.configVersion,
    row.occurredAt,
    row.recordedAt,
    row.prevHash,
  ]
    .map(field)
    .join('');
  return createHash('sha256').update(encoded, 'utf8').digest('hex');
}

/** SQL select list giving a row in exactly the ChainedRowText form (columns named as its keys). */
export const CHAINED_ROW_SELECT = `
  shard::text AS "shard", shard_seq::text AS "shardSeq", message_id AS "messageId", seq::text AS "seq",
  tenant AS "tenant", recipient_hash AS "recipientHash", region AS "region", flow AS "flow",
  event AS "event", channel AS "channel", result AS "result", error_code AS "errorCode",
  detail::text AS "detail", config_version AS "configVersion",
  to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "occurredAt",
  to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "recordedAt",
  prev_hash AS "prevHash", row_hash AS "rowHash"`;
