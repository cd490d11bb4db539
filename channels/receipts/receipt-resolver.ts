// Which workflow an inbox row belongs to, and the signal it gets: the one place receipts are
// matched to messages (SMS: by connector, SMSC id and number; RCS: by RBM message id).
import { workflowIdFor } from '../../domain/message';
import { isFinalSmsState } from '../../domain/sms-receipt';
import type { SmsPartKey } from '../../store/sms-submissions';
import type { InboxRow } from '../../store/receipt-inbox';

export interface SubmissionLookup {
  find(
    candidates: string[],
    from: { connector: string; recipientHash: Buffer },
    final: boolean,
  ): Promise<{
    connector: string;
    smscMessageId: string;
    workflowId: string;
    messageId: string;
    part: number;
  } | null>;
}

export interface RcsSendLookup {
  workflowFor(rbmMessageId: string): Promise<string | null>;
}

export type ResolvedReceipt =
  | {
      kind: 'sms';
      workflowId: string;
      receipt: { smscMessageId: string; state: string; errorCode: string | null };
      /** The part a final receipt completes: it claims no other receipt once this one is settled. */
      finalFor: SmsPartKey | null;
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
      const final = isFinalSmsState(row.event);
      const found = await this.o.submissions.find(
        this.o.idCandidates(row.externalId),
        { connector: row.connector, recipientHash: row.recipientHash },
        final,
      );
      if (!found) return null;
      return {
        kind: 'sms',
        workflowId: found.workflowId,
        // The id as stored: the spelling the submit activity gave the workflow.
        receipt: { smscMessageId: found.smscMessageId, state: row.event, errorCode: row.errorCode },
        finalFor: final ? found : null,
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
