// What an app's status callback says about its message, and which audit rows say it. Types and
// one pure mapping: the outbox (store/status-events.ts) writes an event for each audit row that
// maps to one, in the same statement that appends the row.
import type { AuditEntry } from './audit';
import type { FallbackReason } from './message';

export const STATUS_EVENT_STATUSES = ['accepted', 'fell_back', 'delivered', 'failed', 'read'] as const;
export type StatusEventStatus = (typeof STATUS_EVENT_STATUSES)[number];

/** The JSON body POSTed to the callback URL. Metadata only: never the number or the text. */
export interface StatusEvent {
  eventId: string;
  messageId: string;
  /** 1, 2, 3… per message; a receiver gets them in this order (a gap: an event given up on). */
  sequence: number;
  status: StatusEventStatus;
  channel: 'rcs' | 'sms' | null;
  fallbackReason: FallbackReason | null;
  /** The failure's code (an SMSC state, an RBM status), for `failed` only. */
  errorCode: string | null;
  /** When the change happened (ISO 8601). */
  occurredAt: string;
}

/** An event derived from one audit row, before the outbox numbers it. */
export interface StatusEventDraft {
  /** The audit row's seq: the event is written only if that row is new (a retried write adds none). */
  auditSeq: number;
  status: StatusEventStatus;
  channel: 'rcs' | 'sms' | null;
  fallbackReason: string | null;
  errorCode: string | null;
  occurredAt: string;
}

/** Audit seqs from here on belong to a pilot's child workflows (workflows/audit-trail.ts lanes). */
const CHILD_LANES_FROM = 1000;

const channelOf = (c: string | null): 'rcs' | 'sms' | null => (c === 'rcs' || c === 'sms' ? c : null);
const stringOr = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/**
 * accepted: the message's first row ('received'). fell back: its SMS send was accepted with a
 * fallback reason (the reason the message is not going over RCS). delivered / failed: the
 * outcome row, once per message (so never a pilot's duplicate or a supplementary copy). read:
 * not an audit row, it comes from the RBM receipt (store/status-events.ts recordRead).
 */
export function statusEventOf(e: AuditEntry): StatusEventDraft | null {
  const draft = (status: StatusEventStatus, channel: string | null, errorCode: string | null = null) => ({
    auditSeq: e.seq,
    status,
    channel: channelOf(channel),
    fallbackReason: stringOr(e.detail.fallbackReason),
    errorCode,
    occurredAt: e.occurredAt,
  });
  if (e.event === 'received' && e.seq < CHILD_LANES_FROM) return draft('accepted', null);
  if (e.event === 'accepted' && e.channel === 'sms' && stringOr(e.detail.fallbackReason))
    return draft('fell_back', 'sms');
  if (e.event === 'completed' && e.result === 'delivered') return draft('delivered', e.channel);
  if (e.event === 'failed' && e.seq < CHILD_LANES_FROM) return draft('failed', null, e.errorCode);
  return null;
}
