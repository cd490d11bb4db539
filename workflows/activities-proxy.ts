import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/workflow';
import type { GuardActivities, MessageActivities, ProbeActivities } from '../activities';
import { FailureType } from '../domain/failures';

// Retry policies, one place. They name the failure types the activities throw (domain/failures.ts).

/**
 * PostgreSQL unreachable fails an activity with an error that carries no type of ours, which is
 * retried: every activity that needs the database keeps retrying it for this long, so a message
 * waits out an outage of at least 15 minutes and then goes on (README, "A database outage").
 */
export const DATABASE_OUTAGE_BUDGET = '20 minutes';

/** Backoff capped low enough that a message moves on within 30 s of the database coming back. */
export const UNTIL_THE_DATABASE_IS_BACK: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
};

// Local activities retried this long back off inside the worker (30 s is below the SDK's 1 minute
// localRetryThreshold), which keeps the workflow task alive meanwhile by heartbeating it.
export const recordAuditOptions: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: DATABASE_OUTAGE_BUDGET,
  retry: UNTIL_THE_DATABASE_IS_BACK,
};
export const { recordAudit } = proxyLocalActivities<MessageActivities>(recordAuditOptions);

// The policy, the capability probe (usually a cache hit; a miss calls the hub, retried inside)
// and the routing context in one local activity: no round trip through the server.
export const prepareDeliveryOptions: LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: DATABASE_OUTAGE_BUDGET,
  retry: UNTIL_THE_DATABASE_IS_BACK,
};
export const { prepareDelivery } = proxyLocalActivities<MessageActivities>(prepareDeliveryOptions);

// A short database write before an escrowed tenant's encrypted send.
export const archiveForEscrowOptions: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: DATABASE_OUTAGE_BUDGET,
  retry: { ...UNTIL_THE_DATABASE_IS_BACK, nonRetryableErrorTypes: [FailureType.EscrowPolicy] },
};
export const { archiveForEscrow } = proxyLocalActivities<MessageActivities>(archiveForEscrowOptions);

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
// Temporal retries only failures that carry no type of ours (the database unreachable before the
// send, a crashed worker, a bug); a resend is harmless, RBM dedupes on messageId.
export const sendRcsOptions: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: DATABASE_OUTAGE_BUDGET,
  retry: {
    ...UNTIL_THE_DATABASE_IS_BACK,
    nonRetryableErrorTypes: [FailureType.RcsTransient, FailureType.RcsPermanent, FailureType.RegionUnserved],
  },
};
export const { sendRcs } = proxyActivities<MessageActivities>(sendRcsOptions);

// SMS is the path that must not fail: transient SMSC trouble (or the database, which records each
// part's intent before its submit_sm) is retried for as long as the budget lasts. An attempt
// covers every part of a long message, each waiting up to SMPP_SUBMIT_TIMEOUT_MS.
export const sendSmsOptions: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  // The activity heartbeats every second while it runs: a dead worker's attempt is retried
  // elsewhere after 10 s (an SMS in flight on a killed worker finishes within seconds).
  heartbeatTimeout: '10 seconds',
  scheduleToCloseTimeout: DATABASE_OUTAGE_BUDGET,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [FailureType.SmsPermanent, FailureType.RegionUnserved],
  },
};
export const { sendSms } = proxyActivities<MessageActivities>(sendSmsOptions);

export const createShortlinkOptions: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: DATABASE_OUTAGE_BUDGET,
  retry: {
    ...UNTIL_THE_DATABASE_IS_BACK,
    nonRetryableErrorTypes: [FailureType.MediaNotFound, FailureType.MediaRef],
  },
};
export const { createShortlink } = proxyActivities<MessageActivities>(createShortlinkOptions);

// The guard has no deadline of its own: it retries for as long as the database is away, and
// picks up where it was (the worker's supervisor restarts it should it end all the same).
export const guardActivityOptions: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: UNTIL_THE_DATABASE_IS_BACK,
};
export const { measureFallback, recordGuardDecision } =
  proxyActivities<GuardActivities>(guardActivityOptions);

// A probe's hub check is one short call per recipient: a failure is recorded as 'error', not retried
// for long. Its record is a database write, retried like the audit trail's.
export const { checkProbeCapabilities, sealProbeMessages } = proxyActivities<ProbeActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { maximumAttempts: 2 },
});
export const { recordProbeResults } = proxyActivities<ProbeActivities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '5 minutes',
  retry: UNTIL_THE_DATABASE_IS_BACK,
});
