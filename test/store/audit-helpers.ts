// Shared by the audit suites: entries that look like the workflow's, and tampering done the way
// an intruder with superuser rights would (triggers off, edit, triggers on).

import { randomUUID } from 'node:crypto';
import type { AuditContext, AuditEntry } from '../../domain/audit';
import type { Database } from '../../store/database';

export const HASH_KEY = 'audit-test-hash-key';
export const RECIPIENT = '+15550100001';
export const TEXT = 'Your parcel is on its way';

export const context = (recipient = RECIPIENT): AuditContext => ({
  tenant: 'acme',
  recipient,
  region: 'us',
  flow: 'standard',
});

export function entry(messageId: string, seq: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    messageId,
    seq,
    event: seq === 0 ? 'received' : 'attempt',
    channel: seq === 0 ? null : 'rcs',
    result: seq === 0 ? null : 'accepted',
    errorCode: null,
    detail: { e2ee: 'preferred', note: 'ünïcödé "quoted", comma', ratio: 0.1 },
    occurredAt: new Date().toISOString(),
    ...overrides,
  };
}

export const newMessageId = (): string => randomUUID();

/** Runs statements with the append-only triggers off, as only a superuser could. */
export async function tamper(db: Database, ...statements: string[]): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query('ALTER TABLE audit_log DISABLE TRIGGER ALL');
    for (const sql of statements) await client.query(sql);
    await client.query('ALTER TABLE audit_log ENABLE TRIGGER ALL');
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
