import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { GuardActivities, MessageActivities } from '../activities';
import { FailureType } from '../domain/failures';

// Retry policies, one place. They name the failure types the activities throw (domain/failures.ts).

export const { recordAudit } = proxyLocalActivities<MessageActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 10 },
});

// The policy, the capability probe (usually a cache hit; a miss calls the hub, retried inside)
// and the routing context in one local activity: no round trip through the server.
export const { prepareDelivery } = proxyLocalActivities<MessageActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 10 },
});

// A short database write before an escrowed tenant's encrypted send.
export const { archiveForEscrow } = proxyLocalActivities<MessageActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: [FailureType.EscrowPolicy] },
});

export const { revokeRcs } = proxyActivities<MessageActivities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '500 ms',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [FailureType.RcsPermanent, FailureType.RegionUnserved],
  },
});

// RCS attempts are counted by the workflow, not by Temporal's retry, so that each attempt's
// error code reaches the outcome and the audit trail, and the cap is the message's policy.
// Temporal retries only failures that carry no type of ours (a crashed worker, a bug); a resend
// is harmless, RBM dedupes on messageId.
export const { sendRcs } = proxyActivities<MessageActivities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    maximumAttempts: 2,
    nonRetryableErrorTypes: [FailureType.RcsTransient, FailureType.RcsPermanent, FailureType.RegionUnserved],
  },
});

// SMS is the path that must not fail: transient SMSC trouble is retried for as long as it lasts.
// The budget covers every part of a long message, each waiting up to SMPP_SUBMIT_TIMEOUT_MS.
export const { sendSms } = proxyActivities<MessageActivities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
    nonRetryableErrorTypes: [FailureType.SmsPermanent, FailureType.RegionUnserved],
  },
});

export const { createShortlink } = proxyActivities<MessageActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['MediaNotFoundError', 'MediaRefError'],
  },
});

export const { measureFallback, recordGuardDecision } = proxyActivities<GuardActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});
