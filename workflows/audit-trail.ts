import type { SendAuditInput, SendAuditResult } from '../activities';
import type { AuditContext, AuditEntry } from '../domain/audit';
import { recordAudit } from './activities-proxy';

/** Audit rows of one message are numbered per workflow lane, so a pilot's children never collide. */
export const AUDIT_LANE = { parent: 0, rcsChild: 1000, smsChild: 2000 } as const;

export type AuditRow = Omit<AuditEntry, 'messageId' | 'seq' | 'occurredAt'>;

/**
 * Probe traffic's mark on the rows that count a message (received, routed, its end): the guard,
 * `switchboard slo` and the business metrics leave those messages out. Business rows stay as they were.
 */
export const syntheticMark = (request: { synthetic?: true }): { synthetic?: true } =>
  request.synthetic ? { synthetic: true } : {};

/**
 * A message's audit rows, numbered in order and held in workflow state (durable: a replay
 * rebuilds them) until one write takes them: the next send's, which records them with its own
 * 'accepted' row, or `flush()` before a wait and at the end.
 */
export class AuditTrail {
  private seq: number;
  private readonly pending: AuditEntry[] = [];

  constructor(
    private readonly messageId: string,
    private readonly context: AuditContext,
    lane: number,
  ) {
    this.seq = lane;
  }

  add(row: AuditRow): void {
    this.pending.push({
      ...row,
      messageId: this.messageId,
      seq: this.seq++,
      occurredAt: new Date().toISOString(),
    });
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    await recordAudit({ context: this.context, entries: this.pending.splice(0) });
  }

  /** For a send: the rows due and its 'accepted' row (the next seq: nothing else is audited while it runs). */
  handOff(channel: 'rcs' | 'sms', detail: AuditEntry['detail']): SendAuditInput {
    return {
      context: this.context,
      before: [...this.pending],
      accepted: {
        messageId: this.messageId,
        seq: this.seq,
        event: 'accepted',
        channel,
        result: 'accepted',
        errorCode: null,
        detail,
      },
    };
  }

  /** After a send: true when it recorded what it was handed, which is then no longer due. */
  settle(handed: SendAuditInput, result: SendAuditResult): boolean {
    if (!result.recorded) return false;
    this.pending.splice(0, handed.before.length);
    this.seq++;
    return true;
  }
}
