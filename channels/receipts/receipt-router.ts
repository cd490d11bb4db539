import type { Logger } from 'pino';
import { workflowIdFor } from '../../domain/message';
import type { RcsEvent } from '../rcs/types';
import type { SmsReceipt } from '../sms/types';

export type SignalOutcome = 'delivered' | 'closed';

/** Where routed receipts go; the worker implements it with Temporal signals. */
export interface ReceiptSink {
  rcsEvent(
    workflowId: string,
    event: { rbmMessageId: string; eventType: string; eventId: string; errorCode: string | null },
  ): Promise<SignalOutcome>;
  smsReceipt(
    workflowId: string,
    receipt: { smscMessageId: string; state: string; errorCode: string | null },
  ): Promise<SignalOutcome>;
}

export interface SubmissionLookup {
  find(candidates: string[]): Promise<{ smscMessageId: string; workflowId: string } | null>;
}

export interface RcsSendLookup {
  workflowFor(rbmMessageId: string): Promise<string | null>;
}

export interface ReceiptRouterOptions {
  lookup: SubmissionLookup;
  /** Which workflow sent an RBM message id; ids not found are our message ids (the first RCS send). */
  rcsSends?: RcsSendLookup;
  sink: ReceiptSink;
  logger: Logger;
  /** The spellings an SMSC id may have in our records (hex vs decimal). */
  idCandidates: (smscMessageId: string) => string[];
  /**
   * A receipt can overtake the write of its submission (the SMSC answers submit_sm and sends the
   * receipt back-to-back); the router looks again for this long before calling it unknown.
   */
  lookupPatienceMs?: number;
}

export type RouteResult = 'routed' | 'closed' | 'unknown';

/** Sends each receipt to the workflow of the message it belongs to. */
export class ReceiptRouter {
  private readonly patienceMs: number;

  constructor(private readonly options: ReceiptRouterOptions) {
    this.patienceMs = options.lookupPatienceMs ?? 5000;
  }

  async routeSmsReceipt(receipt: SmsReceipt): Promise<RouteResult> {
    const candidates = this.options.idCandidates(receipt.smscMessageId);
    const deadline = Date.now() + this.patienceMs;
    let delay = 25;
    for (;;) {
      const found = await this.options.lookup.find(candidates);
      if (found) {
        const outcome = await this.options.sink.smsReceipt(found.workflowId, {
          smscMessageId: found.smscMessageId,
          state: receipt.state,
          errorCode: receipt.errorCode,
        });
        return outcome === 'delivered' ? 'routed' : 'closed';
      }
      if (Date.now() + delay > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 1000);
    }
    this.options.logger.warn(
      { smscMessageId: receipt.smscMessageId, state: receipt.state },
      'receipt for an unknown SMSC message id',
    );
    return 'unknown';
  }

  async routeRcsEvent(event: RcsEvent): Promise<RouteResult> {
    const workflowId =
      (await this.options.rcsSends?.workflowFor(event.messageId)) ?? workflowIdFor(event.messageId);
    const outcome = await this.options.sink.rcsEvent(workflowId, {
      rbmMessageId: event.messageId,
      eventType: event.eventType,
      eventId: event.eventId,
      errorCode: event.errorCode ?? null,
    });
    if (event.eventType === 'E2EE_DECRYPT_FAILED') {
      // For security operations: key negotiation and decryption failures, by code, never content.
      this.options.logger.warn(
        { security: 'e2ee', messageId: event.messageId, code: event.errorCode ?? null },
        'E2EE failure reported by the phone',
      );
    }
    if (outcome === 'closed') {
      this.options.logger.debug(
        { messageId: event.messageId, eventType: event.eventType },
        'RCS event for a finished message',
      );
      return 'closed';
    }
    return 'routed';
  }
}
