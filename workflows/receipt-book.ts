import type { RcsEventSignal, SmsReceiptSignal } from './definitions';
import { acceptedSignal } from './refusals';
import { FINAL_SMS_STATES } from '../domain/sms-receipt';

export interface RcsSendState {
  delivered: boolean;
  /** E2EE_DECRYPT_FAILED: the phone's MLS error code. */
  e2eeFailure: string | null;
}

/** What the receipt signals told a workflow: RBM events per RCS send, SMPP receipts per part. */
export class ReceiptBook {
  /** Per RBM message id: a message may have an encrypted and a plain RCS send. */
  private readonly rcs = new Map<string, RcsSendState>();
  private readonly sms = new Map<string, SmsReceiptSignal>();
  /** Pilot: the other channel won; an RCS copy still in flight is revoked. */
  standDown = false;

  onRcsEvent(event: unknown): void {
    if (!acceptedSignal('rcsEvent', event, isRcsEvent)) return;
    const seen = this.rcsSend(event.rbmMessageId);
    if (event.eventType === 'DELIVERED' || event.eventType === 'READ') seen.delivered = true;
    if (event.eventType === 'E2EE_DECRYPT_FAILED') seen.e2eeFailure = event.errorCode ?? 'UNKNOWN';
    this.rcs.set(event.rbmMessageId, seen);
  }

  rcsSend(rbmMessageId: string): RcsSendState {
    return this.rcs.get(rbmMessageId) ?? { delivered: false, e2eeFailure: null };
  }

  onSmsReceipt(receipt: unknown): void {
    if (!acceptedSignal('smsReceipt', receipt, isSmsReceipt)) return;
    // Duplicates overwrite with the same value; a final state is never replaced by an interim one.
    const known = this.sms.get(receipt.smscMessageId);
    if (!known || !FINAL_SMS_STATES.has(known.state)) this.sms.set(receipt.smscMessageId, receipt);
  }

  /** The part's final receipt, once it has one. */
  finalSmsReceipt(smscMessageId: string): SmsReceiptSignal | undefined {
    const receipt = this.sms.get(smscMessageId);
    return receipt && FINAL_SMS_STATES.has(receipt.state) ? receipt : undefined;
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNullableString = (v: unknown) => v === null || v === undefined || typeof v === 'string';

function isRcsEvent(v: unknown): v is RcsEventSignal {
  const e = v as Partial<RcsEventSignal> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    isString(e.rbmMessageId) &&
    isString(e.eventType) &&
    isString(e.eventId) &&
    isNullableString(e.errorCode)
  );
}

function isSmsReceipt(v: unknown): v is SmsReceiptSignal {
  const r = v as Partial<SmsReceiptSignal> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    isString(r.smscMessageId) &&
    isString(r.state) &&
    isNullableString(r.errorCode)
  );
}
