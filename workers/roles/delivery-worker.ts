import { Worker } from '@temporalio/worker';
import {
  createDeliveryActivities,
  createEscrowActivities,
  createRoutingActivities,
  createProbeActivities,
  createShortlinkActivities,
} from '../../activities';
import type { AuditSink } from '../../activities/deps';
import type { RegionalChannels } from '../../activities/deps';
import { recipientMatchHash } from '../../channels/receipts/recipient-match';
import { taskQueues } from '../../config/task-queues';
import type { DeploymentVersion } from '../../config/worker-deployment';
import { deriveKey } from '../../config/secrets';
import type { DeliveryPolicy } from '../../domain/message';
import { EscrowArchiver } from '../../e2ee/escrow-archive';
import * as metering from '../../metrics';
import { PostgresKeyDirectory } from '../../e2ee/key-directory';
import type { ProbeResults } from '../../store/probe-results';
import { EscrowStore } from '../../store/escrow-store';
import type { MediaObjectStore } from '../../store/media-objects';
import { RcsSends } from '../../store/rcs-sends';
import type { GuardStore } from '../../store/rollout/guard-store';
import { RecipientPreferences } from '../../store/rollout/recipient-preferences';
import type { RolloutStore } from '../../store/rollout/rollout-store';
import { SmsSubmissions } from '../../store/sms-submissions';
import type { LinkMaker } from '../shortlinks';
import { probeSealer } from '../probe-sealer';
import { temporalWorkerOptions } from '../temporal-runtime';
import type { RoleContext } from './context';

export function deliveryPolicyFrom(env: RoleContext['env']): DeliveryPolicy {
  return {
    rcsMaxAttempts: env.RCS_MAX_ATTEMPTS,
    rcsRetryBackoffMs: env.RCS_RETRY_BACKOFF_MS,
    rcsReceiptTimeoutMs: env.RCS_RECEIPT_TIMEOUT_MS,
    smsReceiptTimeoutMs: env.SMS_RECEIPT_TIMEOUT_MS,
  };
}

/**
 * The delivery worker (`--services worker`): deliverMessage and its activities on the delivery
 * task queue. Its SMPP binds, like every process's, answer deliver_sm once the receipt is in the
 * inbox (workers/worker.ts); the receipt router dispatches it from there.
 */
export async function createDeliveryWorker(
  ctx: RoleContext,
  deps: {
    channels: RegionalChannels & { regions(): string[] };
    links: LinkMaker;
    mediaObjects: MediaObjectStore;
    rollout: RolloutStore;
    guard: GuardStore;
    /** Where audit rows go: the status callbacks' outbox writes their events with them. */
    audit: AuditSink;
    probes: ProbeResults;
    /** This build in the delivery workers' deployment: messages are PINNED to the build they start on. */
    version: DeploymentVersion;
  },
): Promise<Worker> {
  const { env, db, secrets, metrics, channels } = { ...ctx, ...deps };
  const recipientHash = recipientMatchHash(deriveKey(secrets, 'receipt-match'));
  return Worker.create({
    connection: ctx.connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: taskQueues(env).delivery,
    // Every workflow here (messages, a pilot's legs, probes) finishes on the build it started on: a
    // canary of new routing code takes new messages only, and no replay meets code it did not run.
    // Set for the worker, not per workflow: the workflow tier's unversioned worker runs them too.
    workerDeploymentOptions: {
      version: deps.version,
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'PINNED',
    },
    workflowBundle: await ctx.workflowBundle(),
    activities: {
      ...createRoutingActivities({
        policy: deliveryPolicyFrom(env),
        channels,
        rollout: deps.rollout,
        preferences: new RecipientPreferences(db, deriveKey(secrets, 'preferences')),
        guard: deps.guard,
        cohortKey: deriveKey(secrets, 'cohort'),
        meter: metering.routingMeter(metrics),
      }),
      ...createDeliveryActivities({
        channels,
        rcsSends: new RcsSends(db),
        smsSubmissions: new SmsSubmissions(db),
        recipientHash,
        audit: deps.audit,
        meter: metering.deliveryMeter(metrics),
      }),
      ...createEscrowActivities({ escrowArchive: new EscrowArchiver(new EscrowStore(db)) }),
      ...createShortlinkActivities({ shortlinks: deps.links, mediaObjects: deps.mediaObjects }),
      // The synthetic probes drive real sends, so they run beside the channels they probe.
      ...createProbeActivities({
        channels,
        probes: deps.probes,
        meter: metering.probeMeter(metrics),
        sealer: probeSealer(new PostgresKeyDirectory(db, deriveKey(secrets, 'key-directory'))),
      }),
    },
    dataConverter: ctx.dataConverter,
    // TEMPORAL_WORKER_OPTIONS: worker tuning, measured by the bench (docs/benchmarks.md).
    ...temporalWorkerOptions(env),
  });
}
