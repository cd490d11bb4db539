import { defineQuery, defineSignal } from '@temporalio/workflow';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import type { AttemptRecord, ChannelName, DeliveryOutcome } from '../domain/message';

/** An RBM event for this message, forwarded by the receipt router. */
export interface RcsEventSignal {
  /** Which RCS send of the message the event is about. */
  rbmMessageId: string;
  eventType: string;
  eventId: string;
  /** E2EE_DECRYPT_FAILED: the phone's MLS error code. */
  errorCode?: string | null;
}

/** An SMPP delivery receipt for one part, its id already resolved to the one we submitted. */
export interface SmsReceiptSignal {
  smscMessageId: string;
  state: string;
  errorCode: string | null;
}

export const rcsEventSignal = defineSignal<[RcsEventSignal]>('rcsEvent');
export const smsReceiptSignal = defineSignal<[SmsReceiptSignal]>('smsReceipt');
/** Pilot: sent to the RCS child when SMS won, so it revokes its copy if it still can. */
export const standDownSignal = defineSignal('standDown');

export type DeliveryStep =
  | 'received'
  | 'probing'
  | 'sending-rcs'
  | 'awaiting-rcs-receipt'
  | 'revoking-rcs'
  | 'sending-sms'
  | 'awaiting-sms-receipt'
  | 'pilot'
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
/** Whose message: set by whoever starts the workflow (the REST API lists a tenant's messages by it). */
export const SwitchboardTenantKey = defineSearchAttributeKey(
  'SwitchboardTenant',
  SearchAttributeType.KEYWORD,
);

export const SEARCH_ATTRIBUTES = [
  DeliveryStateKey,
  DeliveryChannelKey,
  FallbackReasonKey,
  MessageFlowKey,
  SwitchboardTenantKey,
];

export interface GuardSettings {
  region: string;
  /** Trip when the fallback rate of RCS-eligible traffic exceeds this share. */
  threshold: number;
  /** Lift when it is back under this share (or too little RCS traffic remains to judge). */
  recoverBelow: number;
  minSample: number;
  windowMs: number;
  checkEveryMs: number;
  /** On a trip, also roll the region back to its last good config. */
  rollback: boolean;
}

export interface GuardStatus {
  throttled: boolean;
  reason: string | null;
  fallbackRate: number | null;
  sampleSize: number;
  trips: number;
  rolledBackTo: number | null;
}

export const guardStatusQuery = defineQuery<GuardStatus>('guardStatus');
