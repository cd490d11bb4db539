// What a carrier's receipt becomes in the inbox. The carrier is answered only once it is written.
import type { InboxReceipt } from '../../store/receipt-inbox';
import type { RcsEvent } from '../rcs/types';
import { normaliseSmscId } from '../sms/delivery-receipt';
import type { SmsGateway, SmsReceipt } from '../sms/types';
import type { RecipientMatchHash } from './recipient-match';

export interface ReceiptRecorder {
  record(receipt: InboxReceipt): Promise<unknown>;
}

/** `connector`: the SMSC the receipt came from (its region); the handset is kept as its keyed hash. */
export function smsInboxReceipt(
  connector: string,
  receipt: SmsReceipt,
  recipientHash: RecipientMatchHash,
): InboxReceipt {
  return {
    kind: 'sms',
    connector,
    externalId: normaliseSmscId(receipt.smscMessageId),
    event: receipt.state,
    errorCode: receipt.errorCode,
    recipientHash: recipientHash(receipt.handset),
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

/** Every region's SMPP binds write their receipts to the inbox; each deliver_sm is answered after. */
export function recordSmsReceipts(
  channels: { regions(): string[]; forRegion(region: string): { smsGateway: SmsGateway } },
  inbox: ReceiptRecorder,
  recipientHash: RecipientMatchHash,
): void {
  for (const region of channels.regions())
    channels
      .forRegion(region)
      .smsGateway.onReceipt((receipt) =>
        inbox.record(smsInboxReceipt(region, receipt, recipientHash)).then(() => undefined),
      );
}
