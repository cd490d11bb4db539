// Metadata-only export of the audit trail for a legal request: one message, or every row of one
// recipient in a time window (looked up by the keyed hash, so the number never meets the table).
//
// The export is itself audited, under its own id ('export-<uuid>', its own chain):
// - 'export' before the first byte leaves: what was asked, by whom, in which format; a crash
//   mid-export still leaves the request on record;
// - 'export_completed' after the last: how many rows, and the SHA-256 of the bytes handed over,
//   so the file given to the requester can later be proven to be exactly this export.
// Neither row holds the number: a recipient export is recorded under the recipient's hash.

import { createHash, randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { HashedAuditContext } from '../domain/audit';
import type { AuditLog } from './audit-log';
import { SNAPSHOT, inTransaction } from './database';
import type { Database } from './database';

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export type AuditExportQuery = { messageId: string } | { recipient: string; from: Date; to: Date };

export interface AuditExportOptions {
  format: ExportFormat;
  out: Writable;
  /** Who asked (operator name); recorded in the export's own audit row. */
  requestedBy: string;
  /** The legal request's reference, if any; recorded likewise. */
  reference?: string | null;
  batchSize?: number;
}

export interface AuditExportResult {
  exportId: string;
  rows: number;
  bytes: number;
  sha256: string;
}

export class AuditExportError extends Error {
  override readonly name = 'AuditExportError';
}

/** Columns of an export, in order: metadata and the chain fields that let a reader check rows. */
export const EXPORT_COLUMNS = [
  'messageId',
  'seq',
  'occurredAt',
  'recordedAt',
  'tenant',
  'region',
  'flow',
  'event',
  'channel',
  'result',
  'errorCode',
  'configVersion',
  'detail',
  'recipientHash',
  'shard',
  'shardSeq',
  'prevHash',
  'rowHash',
] as const;

type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], unknown>;

const SELECT = `
  message_id AS "messageId", seq, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "occurredAt",
  to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "recordedAt",
  tenant, region, flow, event, channel, result, error_code AS "errorCode", config_version AS "configVersion",
  detail, recipient_hash AS "recipientHash", shard, shard_seq::text AS "shardSeq", prev_hash AS "prevHash",
  row_hash AS "rowHash"`;

const E164 = /^\+[1-9]\d{6,14}$/;

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text =
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function encode(row: ExportRow, format: ExportFormat): string {
  if (format === 'jsonl') return `${JSON.stringify(row)}\n`;
  return `${EXPORT_COLUMNS.map((c) => csvCell(row[c])).join(',')}\r\n`;
}

/** Writes with back-pressure, counting and hashing exactly the bytes that leave. */
class CountingWriter {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly out: Writable) {}

  async write(text: string): Promise<void> {
    const chunk = Buffer.from(text, 'utf8');
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.out.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          this.out.off('drain', done);
          this.out.off('error', done);
          if (err) reject(err);
          else resolve();
        };
        this.out.on('drain', done);
        this.out.on('error', done);
      });
    }
  }
}

function validate(query: AuditExportQuery): void {
  if ('messageId' in query) {
    if (typeof query.messageId !== 'string' || query.messageId.trim() === '')
      throw new AuditExportError('messageId: a non-empty message id');
    return;
  }
  if (!E164.test(query.recipient)) throw new AuditExportError('recipient: an E.164 number');
  if (Number.isNaN(query.from.getTime()) || Number.isNaN(query.to.getTime()))
    throw new AuditExportError('from/to: valid timestamps');
  if (query.from >= query.to) throw new AuditExportError('to: later than from');
}

export async function exportAudit(
  db: Database,
  auditLog: AuditLog,
  query: AuditExportQuery,
  options: AuditExportOptions,
): Promise<AuditExportResult> {
  validate(query);
  const { format, requestedBy, reference = null, batchSize = 1000 } = options;
  const exportId = `export-${randomUUID()}`;
  const byMessage = 'messageId' in query;

  let recipientHash: string;
  if (byMessage) {
    // Recorded under the message's recipient hash, so a later recipient export shows this access.
    const { rows } = await db.query<{ recipient_hash: string }>(
      'SELECT recipient_hash FROM audit_log WHERE message_id = $1 LIMIT 1',
      [query.messageId],
    );
    recipientHash = rows[0]?.recipient_hash ?? '';
  } else {
    recipientHash = auditLog.hashRecipient(query.recipient);
  }
  const context: HashedAuditContext = { tenant: 'operator', recipientHash, region: 'global', flow: 'export' };
  const audit = (seq: number, event: string, detail: Record<string, string | number | null>) =>
    auditLog.appendHashed(context, [
      {
        messageId: exportId,
        seq,
        event,
        channel: null,
        result: null,
        errorCode: null,
        detail,
        occurredAt: new Date().toISOString(),
      },
    ]);

  await audit(0, 'export', {
    query: byMessage ? 'message' : 'recipient',
    targetMessageId: byMessage ? query.messageId : null,
    from: byMessage ? null : query.from.toISOString(),
    to: byMessage ? null : query.to.toISOString(),
    format,
    requestedBy,
    reference,
  });

  const writer = new CountingWriter(options.out);
  if (format === 'csv') await writer.write(`${EXPORT_COLUMNS.join(',')}\r\n`);
  let rows = 0;
  await inTransaction(
    db,
    async (client) => {
      if (byMessage) {
        await client.query(
          `DECLARE audit_export NO SCROLL CURSOR FOR SELECT ${SELECT} FROM audit_log
         WHERE message_id = $1 ORDER BY seq`,
          [query.messageId],
        );
      } else {
        await client.query(
          `DECLARE audit_export NO SCROLL CURSOR FOR SELECT ${SELECT} FROM audit_log
         WHERE recipient_hash = $1 AND occurred_at >= $2 AND occurred_at < $3 AND message_id <> $4
         ORDER BY occurred_at, message_id, seq`,
          [recipientHash, query.from, query.to, exportId],
        );
      }
      for (;;) {
        const batch = await client.query<ExportRow>(`FETCH ${batchSize} FROM audit_export`);
        for (const row of batch.rows) {
          await writer.write(encode(row, format));
          rows++;
        }
        if (batch.rows.length < batchSize) break;
      }
    },
    SNAPSHOT,
  );

  const sha256 = writer.hash.digest('hex');
  await audit(1, 'export_completed', { rows, bytes: writer.bytes, sha256 });
  return { exportId, rows, bytes: writer.bytes, sha256 };
}
