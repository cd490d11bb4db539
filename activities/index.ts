import type { MediaRef, RecipientCapability } from '../domain/message';
import type { RoutingContext } from '../domain/rollout';
import { uuidV5 } from '../domain/uuid-v5';
import type { FallbackSample } from '../store/rollout/guard-store';
import { cohortBucket } from '../store/rollout/cohort';
import type { RevokeResult } from '../channels/rcs/types';
import { normaliseSmscId } from '../channels/sms/delivery-receipt';
import type { SmsPartRef } from '../channels/sms/types';
import type { AuditContext, AuditEntry } from '../store/audit-log';
import type { ActivityDeps, DeliveryPolicy } from './deps';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { mappingFailures, toApplicationFailure } from './failures';
import { checkedMediaRef, matchingMedia } from './media-ref';
import type { ChannelFailureDetails } from './failures';
import { createLawfulAccessActivities } from './lawful-access';

export type { ActivityDeps, DeliveryPolicy } from './deps';

export interface RecipientRef {
  messageId: string;
  to: string;
  /** Residency: the carriers of this region, and no other, are used. */
  region: string;
}

export interface RcsSendInput extends RecipientRef {
  workflowId: string;
  text: string;
  /** Whose message: an escrowed tenant's encrypted sends are archived for lawful access. */
  tenant?: string;
  /** MLS ciphertext (base64) made by the sender's app; sent instead of the text. */
  e2ee?: { ciphertext: string; welcome?: string };
  audit?: SendAuditInput;
}

export interface ShortlinkInput extends RecipientRef {
  /** The uploads of this tenant only are found. */
  tenant: string;
  media: MediaRef;
}

export interface RcsRevokeInput extends RecipientRef {
  /** Which of the message's RCS sends: the encrypted one or the plain one. */
  e2ee: boolean;
}

/** The encrypted send of a message has an RBM id of its own, so a plain send may follow it. */
/** The tenant of a request that names none (client/validation.ts). */
const DEFAULT_TENANT = 'default';

const rbmMessageId = (messageId: string, e2ee: boolean) => (e2ee ? uuidV5(`${messageId}:e2ee`) : messageId);

export interface SmsSendInput extends RecipientRef {
  workflowId: string;
  text: string;
  audit?: SendAuditInput;
}

/**
 * policy.auditInSends: a send records the message's audit rows still due and its own
 * 'accepted' row (occurredAt from the activity's clock; an SMS adds its parts) in one write,
 * once the carrier has accepted. A failed write fails nothing: `recorded: false` leaves the
 * rows to the workflow, which writes them as it would have without this.
 */
export interface SendAuditInput {
  context: AuditContext;
  before: AuditEntry[];
  accepted: Omit<AuditEntry, 'occurredAt'>;
}

export interface SendAuditResult {
  recorded: boolean;
}

export interface SmsSent {
  /** One SMSC message id per part, in part order. */
  smscMessageIds: string[];
}

export interface RoutingInput {
  to: string;
  region: string;
}

/** What the workflow learns before routing, answered with its policy (policy.foldLookups). */
export interface DeliveryLookups {
  /** The probe's answer; null when it failed, or when the probe is a remote activity (not localProbe). */
  capability: RecipientCapability | null;
  /** The probe's failure as a probe activity would have reported it (its type and code). */
  probeFailure: { type: string | null; code: string } | null;
  routing: RoutingContext;
}

/** Retries of a probe inside the folded lookups: those of the probe's own local activity. */
const PROBE_ATTEMPTS = 3;
const PROBE_BACKOFF_MS = 500;
const PROBE_FINAL = new Set(['RcsPermanentError', 'RegionUnservedError']);

export interface GuardDecision {
  region: string;
  throttled: boolean;
  reason: string | null;
  fallbackRate: number | null;
  sampleSize: number;
  rollback: boolean;
}

export interface AuditInput {
  context: AuditContext;
  entries: AuditEntry[];
}

/** One thin function per side effect; the workflow decides, these only act. */
export function createActivities(deps: ActivityDeps) {
  const routingContext = async (input: RoutingInput): Promise<RoutingContext> => {
    const [config, preference, guard] = await Promise.all([
      deps.rollout.current(input.region),
      deps.preferences.get(input.to),
      deps.guard.get(input.region),
    ]);
    return {
      config,
      cohortBucket: cohortBucket(deps.cohortKey, input.to),
      preference,
      guardThrottled: guard?.throttled ?? false,
    };
  };

  const recordSent = async (
    audit: SendAuditInput | undefined,
    detail: AuditEntry['detail'],
  ): Promise<{ audit?: SendAuditResult }> => {
    if (!audit) return {};
    const accepted: AuditEntry = {
      ...audit.accepted,
      detail: { ...audit.accepted.detail, ...detail },
      occurredAt: new Date().toISOString(),
    };
    try {
      await deps.audit.append(audit.context, [...audit.before, accepted]);
      return { audit: { recorded: true } };
    } catch {
      return { audit: { recorded: false } };
    }
  };

  /** The probe with its local activity's retry policy; a failure is an answer, not a throw. */
  const probeForLookups = async (
    input: RecipientRef,
  ): Promise<{ capability: RecipientCapability | null; failure: DeliveryLookups['probeFailure'] }> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const capability = await deps.channels
          .forRegion(input.region)
          .capabilities.probe(input.to, input.messageId);
        return { capability, failure: null };
      } catch (err) {
        const mapped = toApplicationFailure(err);
        const failure =
          mapped instanceof ApplicationFailure
            ? {
                type: mapped.type ?? null,
                code:
                  (mapped.details?.[0] as ChannelFailureDetails | undefined)?.code ??
                  mapped.type ??
                  'UNKNOWN',
              }
            : {
                type: err instanceof Error ? err.name : null,
                code: err instanceof Error ? err.name : 'UNKNOWN',
              };
        const final =
          (mapped instanceof ApplicationFailure && mapped.nonRetryable) ||
          PROBE_FINAL.has(failure.type ?? '');
        if (final || attempt >= PROBE_ATTEMPTS) return { capability: null, failure };
        await new Promise((resolve) => setTimeout(resolve, PROBE_BACKOFF_MS * 2 ** (attempt - 1)));
      }
    }
  };

  return {
    ...createLawfulAccessActivities(deps.lawfulAccess),

    /**
     * The policy, recorded in history. With policy.foldLookups and a recipient, the same local
     * activity also probes the recipient (with localProbe) and reads the routing context, saving
     * the workflow two local-activity round trips; histories without `lookups` replay the old way.
     */
    async getDeliveryPolicy(input?: RecipientRef): Promise<DeliveryPolicy & { lookups?: DeliveryLookups }> {
      if (!input || !deps.policy.foldLookups) return deps.policy;
      const [probed, routing] = await Promise.all([
        deps.policy.localProbe ? probeForLookups(input) : null,
        routingContext(input),
      ]);
      return {
        ...deps.policy,
        lookups: {
          capability: probed?.capability ?? null,
          probeFailure: probed?.failure ?? null,
          routing,
        },
      };
    },

    async probeCapability(input: RecipientRef): Promise<RecipientCapability> {
      return mappingFailures(() =>
        deps.channels.forRegion(input.region).capabilities.probe(input.to, input.messageId),
      );
    },

    /** Returns the RBM message id it used, which the hub's events will carry. */
    async sendRcs(input: RcsSendInput): Promise<{ rbmMessageId: string; audit?: SendAuditResult }> {
      const rcsHub = await mappingFailures(() =>
        Promise.resolve(deps.channels.forRegion(input.region).rcsHub),
      );
      const id = rbmMessageId(input.messageId, !!input.e2ee);
      // A retry after an attempt that got the message to the hub and recorded it (then crashed
      // before answering): nothing to resend, and the workflow must not write that seq again.
      const recorded = input.audit?.accepted;
      if (recorded && Context.current().info.attempt > 1) {
        if (await deps.audit.hasEntry(recorded.messageId, recorded.seq)) {
          return { rbmMessageId: id, audit: { recorded: true } };
        }
      }
      if (input.e2ee) {
        // An escrowed tenant's message is archived before it can leave, or not sent at all.
        const { ciphertext, welcome } = input.e2ee;
        const tenant = input.tenant ?? DEFAULT_TENANT;
        await mappingFailures(() =>
          deps.escrowArchive.archive({
            tenant,
            messageId: input.messageId,
            ciphertext: Buffer.from(ciphertext, 'base64'),
            welcome: welcome ? Buffer.from(welcome, 'base64') : null,
          }),
        );
      }
      await deps.rcsSends.record(id, input.messageId, input.workflowId);
      const content = input.e2ee
        ? {
            text: '',
            e2ee: {
              ciphertext: Buffer.from(input.e2ee.ciphertext, 'base64'),
              ...(input.e2ee.welcome ? { welcome: Buffer.from(input.e2ee.welcome, 'base64') } : {}),
            },
          }
        : { text: input.text };
      await mappingFailures(() => rcsHub.sendMessage(input.to, id, content));
      return { rbmMessageId: id, ...(await recordSent(input.audit, {})) };
    },

    async revokeRcs(input: RcsRevokeInput): Promise<RevokeResult> {
      return mappingFailures(() =>
        deps.channels
          .forRegion(input.region)
          .rcsHub.revokeMessage(input.to, rbmMessageId(input.messageId, input.e2ee)),
      );
    },

    /**
     * Submits each part at most once when it can: every part's intent ('submitting') is stored
     * before its submit_sm and its SMSC id ('accepted') as soon as the SMSC answers, before this
     * returns. A retry skips accepted parts and resubmits the rest; a part left 'submitting' (a
     * crash between submit_sm and the record of its answer) is the one place a duplicate can
     * happen (README, "Duplicate SMS").
     */
    async sendSms(input: SmsSendInput): Promise<SmsSent & { audit?: SendAuditResult }> {
      const earlier = await deps.smsSubmissions.forMessage(input.messageId);
      const accepted = new Map<number, string>();
      const earlierParts = earlier.find((r) => r.state !== 'submitting')?.parts ?? 0;
      for (const r of earlier) {
        if (r.state !== 'submitting' && r.parts === earlierParts) accepted.set(r.part, r.smscMessageId);
      }
      if (earlierParts > 0 && accepted.size === earlierParts) {
        const smscMessageIds = [...accepted.entries()].sort(([a], [b]) => a - b).map(([, id]) => id);
        return { smscMessageIds, ...(await recordSent(input.audit, { parts: smscMessageIds.length })) };
      }
      const part = (ref: SmsPartRef) => ({
        ...ref,
        messageId: input.messageId,
        workflowId: input.workflowId,
      });
      // What the workflow gets must be what receipts are routed under: the stored spelling.
      const ids = new Map(accepted);
      const result = await mappingFailures(() =>
        deps.channels.forRegion(input.region).smsGateway.submit(
          { messageId: input.messageId, to: input.to, text: input.text },
          {
            alreadyAccepted: earlierParts > 0 ? { parts: earlierParts, smscMessageIds: accepted } : undefined,
            onPartSubmitting: (ref) =>
              deps.smsSubmissions.record([{ ...part(ref), state: 'submitting', smscMessageId: null }]),
            onPartAccepted: async (ref, smscMessageId) => {
              await deps.smsSubmissions.record([{ ...part(ref), state: 'accepted', smscMessageId }]);
              ids.set(ref.part, normaliseSmscId(smscMessageId));
            },
          },
        ),
      );
      const smscMessageIds = result.smscMessageIds.map((id, i) => ids.get(i + 1) ?? id);
      return { smscMessageIds, ...(await recordSent(input.audit, { parts: smscMessageIds.length })) };
    },

    /** Recipe A: the uploaded media, loaded for its tenant, then encrypted behind a link bound to the recipient. */
    async createShortlink(input: ShortlinkInput): Promise<{ url: string }> {
      const media = await mappingFailures(async () => {
        const ref = checkedMediaRef(input.media);
        return matchingMedia(ref, await deps.mediaObjects.load(ref.mediaId, input.tenant));
      });
      const { url } = await deps.shortlinks.create({
        messageId: input.messageId,
        recipient: input.to,
        media: media.data,
        contentType: media.contentType,
        fileName: media.fileName,
      });
      return { url };
    },

    async recordAudit(input: AuditInput): Promise<void> {
      await deps.audit.append(input.context, input.entries);
    },

    async getRoutingContext(input: RoutingInput): Promise<RoutingContext> {
      return routingContext(input);
    },

    async measureFallback(input: { region: string; windowMs: number }): Promise<FallbackSample> {
      return deps.guard.measure(input.region, input.windowMs);
    },

    /** Stores the guard's decision; on a trip it may also roll the region back to its last good config. */
    async recordGuardDecision(decision: GuardDecision): Promise<{ rolledBackTo: number | null }> {
      await deps.guard.set({
        region: decision.region,
        throttled: decision.throttled,
        reason: decision.reason,
        fallbackRate: decision.fallbackRate,
        sampleSize: decision.sampleSize,
      });
      if (!decision.rollback) return { rolledBackTo: null };
      try {
        const restored = await deps.rollout.rollback(decision.region, 'guard rollback');
        return { rolledBackTo: restored.version };
      } catch (err) {
        if (err instanceof Error && err.name === 'NoGoodVersionError') return { rolledBackTo: null };
        throw err;
      }
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
