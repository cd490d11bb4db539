import { defineQuery, defineSignal } from '@temporalio/workflow';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import type { AttemptRecord, ChannelName, DeliveryOutcome } from '../domain/message';

/** An RBM event for this message, forwarded by the receipt router. */
export interface RcsEventSignal {
  eventType: string;
  eventId: string;
}

/** An SMPP delivery receipt for one part, its id already resolved to the one we submitted. */
export interface SmsReceiptSignal {
  smscMessageId: string;
  state: string;
  errorCode: string | null;
}

export const rcsEventSignal = defineSignal<[RcsEventSignal]>('rcsEvent');
export const smsReceiptSignal = defineSignal<[SmsReceiptSignal]>('smsReceipt');

export type DeliveryStep =
  | 'received'
  | 'probing'
  | 'sending-rcs'
  | 'awaiting-rcs-receipt'
  | 'revoking-rcs'
  | 'sending-sms'
  | 'awaiting-sms-receipt'
  | 'delivered'
  | 'failed';

export interface LiveStatus {
  step: DeliveryStep;
  channel: ChannelName | null;
  attempts: AttemptRecord[];
  outcome: DeliveryOutcome | null;
}

export const statusQuery = defineQuery<LiveStatus>('status');

// Registered on the dev server at start (workers/temporal-server.ts) and in tests.
export const DeliveryStateKey = defineSearchAttributeKey('DeliveryState', SearchAttributeType.KEYWORD);
export const DeliveryChannelKey = defineSearchAttributeKey('DeliveryChannel', SearchAttributeType.KEYWORD);
export const FallbackReasonKey = defineSearchAttributeKey('FallbackReason', SearchAttributeType.KEYWORD);
export const MessageFlowKey = defineSearchAttributeKey('MessageFlow', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [DeliveryStateKey, DeliveryChannelKey, FallbackReasonKey, MessageFlowKey];
