// What a carrier's receipt becomes in the inbox. The carrier is answered only once it is written.
import type { InboxReceipt } from '../../store/receipt-inbox';
import type { RcsEvent } from '../rcs/types';
import { normaliseSmscId } from '../sms/delivery-receipt';
import type { SmsReceipt } from '../sms/types';

export interface ReceiptRecorder {
  record(receipt: InboxReceipt): Promise<unknown>;
}

/** `connector`: the SMSC the receipt came from (its region). */
export function smsInboxReceipt(connector: string, receipt: SmsReceipt): InboxReceipt {
  return {
    kind: 'sms',
    connector,
    externalId: normaliseSmscId(receipt.smscMessageId),
    event: receipt.state,
    errorCode: receipt.errorCode,
  };
}

export function rcsInboxReceipt(event: RcsEvent): InboxReceipt {
  return {
    kind: 'rcs',
    connector: event.agentId,
    externalId: event.messageId,
    event: event.eventType,
    eventId: event.eventId,
    errorCode: event.errorCode ?? null,
  };
}
