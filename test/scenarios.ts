// The spine's paths through DESIGN.md's number plan, shared by the delivery tests and by the
// script that records replay histories.
import type { AttemptRecord, DeliveryOutcome, FallbackReason } from '../domain/message';

export interface Scenario {
  name: string;
  to: string;
  expect: {
    status: DeliveryOutcome['status'];
    channel: DeliveryOutcome['channel'];
    fallbackReason: FallbackReason | null;
    attempts: Array<Pick<AttemptRecord, 'channel' | 'result' | 'errorCode'>>;
  };
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'rcs-delivered',
    to: '+15550100001',
    expect: {
      status: 'delivered',
      channel: 'rcs',
      fallbackReason: null,
      attempts: [{ channel: 'rcs', result: 'delivered', errorCode: null }],
    },
  },
  {
    name: 'rcs-transient-then-delivered',
    to: '+15550400001',
    expect: {
      status: 'delivered',
      channel: 'rcs',
      fallbackReason: null,
      attempts: [
        { channel: 'rcs', result: 'failed', errorCode: '503' },
        { channel: 'rcs', result: 'delivered', errorCode: null },
      ],
    },
  },
  {
    name: 'rcs-permanent-to-sms',
    to: '+15550600001',
    expect: {
      status: 'delivered',
      channel: 'sms',
      fallbackReason: 'rcs_permanent_error',
      attempts: [
        { channel: 'rcs', result: 'failed', errorCode: '400' },
        { channel: 'sms', result: 'delivered', errorCode: null },
      ],
    },
  },
  {
    name: 'rcs-no-receipt-revoke-to-sms',
    to: '+15550500001',
    expect: {
      status: 'delivered',
      channel: 'sms',
      fallbackReason: 'rcs_receipt_timeout',
      attempts: [
        { channel: 'rcs', result: 'revoked', errorCode: 'RECEIPT_TIMEOUT' },
        { channel: 'sms', result: 'delivered', errorCode: null },
      ],
    },
  },
  {
    name: 'sms-only',
    to: '+15550300001',
    expect: {
      status: 'delivered',
      channel: 'sms',
      fallbackReason: 'not_rcs_capable',
      attempts: [{ channel: 'sms', result: 'delivered', errorCode: null }],
    },
  },
  {
    name: 'sms-undeliverable',
    to: '+15550700001',
    expect: {
      status: 'failed',
      channel: null,
      fallbackReason: 'not_rcs_capable',
      attempts: [{ channel: 'sms', result: 'failed', errorCode: 'UNDELIV:001' }],
    },
  },
];
