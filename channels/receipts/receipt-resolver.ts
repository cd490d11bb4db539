// Which workflow an inbox row belongs to, and the signal it gets: the one place receipts are
// matched to messages (by SMSC id or RBM message id today; by number and connector could join here).
import { workflowIdFor } from '../../domain/message';
import type { InboxRow } from '../../store/receipt-inbox';

export interface SubmissionLookup {
  find(candidates: string[]): Promise<{ smscMessageId: string; workflowId: string } | null>;
}

export interface RcsSendLookup {
  workflowFor(rbmMessageId: string): Promise<string | null>;
}

export type ResolvedReceipt =
  | {
      kind: 'sms';
      workflowId: string;
      receipt: { smscMessageId: string; state: string; errorCode: string | null };
    }
  | {
      kind: 'rcs';
      workflowId: string;
      event: { rbmMessageId: string; eventType: string; eventId: string; errorCode: string | null };
    };

export class ReceiptResolver {
  constructor(
    private readonly o: {
      submissions: SubmissionLookup;
      rcsSends: RcsSendLookup;
      /** The spellings an SMSC id may have in our records (hex vs decimal). */
      idCandidates: (smscMessageId: string) => string[];
    },
  ) {}

  /** null: no message has this id (yet). */
  async resolve(row: InboxRow): Promise<ResolvedReceipt | null> {
    if (row.kind === 'sms') {
      const found = await this.o.submissions.find(this.o.idCandidates(row.externalId));
      if (!found) return null;
      return {
        kind: 'sms',
        workflowId: found.workflowId,
        // The id as stored: the spelling the submit activity gave the workflow.
        receipt: { smscMessageId: found.smscMessageId, state: row.event, errorCode: row.errorCode },
      };
    }
    // Ids not in rcs_sends are our message ids (the first RCS send of a message).
    const workflowId = (await this.o.rcsSends.workflowFor(row.externalId)) ?? workflowIdFor(row.externalId);
    return {
      kind: 'rcs',
      workflowId,
      event: {
        rbmMessageId: row.externalId,
        eventType: row.event,
        eventId: row.eventId,
        errorCode: row.errorCode,
      },
    };
  }
}
