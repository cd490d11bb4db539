import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

// Retry policies, one place. They name the failure types the activities throw.

export const { recordAudit, getRoutingContext } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 10 },
});

// With policy.foldLookups the policy's local activity also runs the probe (up to 3 tries against
// the hub, as the probe's own activity would) and reads the routing context: its budget covers them.
export const { getDeliveryPolicy } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 10 },
});

// A capability lookup is usually a cache hit: as a local activity it costs no round trip
// through the server (policy.localProbe; a miss still calls the hub, within the same timeout).
export const { probeCapability: probeCapabilityLocally } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '500 ms',
    maximumAttempts: 3,
    nonRetryableErrorTypes: ['RcsPermanentError', 'RegionUnservedError'],
  },
});

export const { probeCapability, revokeRcs } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '500 ms',
    maximumAttempts: 3,
    nonRetryableErrorTypes: ['RcsPermanentError', 'RegionUnservedError'],
  },
});

// RCS attempts are counted by the workflow, not by Temporal's retry, so that each attempt's
// error code reaches the outcome and the cap is the policy's. Temporal retries only failures
// that carry no type of ours (a crashed worker, a bug); a resend is harmless, RBM dedupes on messageId.
export const { sendRcs } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    maximumAttempts: 2,
    nonRetryableErrorTypes: ['RcsTransientError', 'RcsPermanentError', 'RegionUnservedError'],
  },
});

// SMS is the path that must not fail: transient SMSC trouble is retried for as long as it lasts.
// The budget covers every part of a long message, each waiting up to SMPP_SUBMIT_TIMEOUT_MS.
export const { sendSms } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['SmsPermanentError', 'RegionUnservedError'],
  },
});

export const { createShortlink } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['MediaNotFoundError', 'MediaRefError'],
  },
});

export const { measureFallback, recordGuardDecision } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});
