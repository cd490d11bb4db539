import type { MediaAttachment, RecipientCapability } from '../domain/message';
import type { RoutingContext } from '../domain/rollout';
import { uuidV5 } from '../domain/uuid-v5';
import type { FallbackSample } from '../store/rollout/guard-store';
import { cohortBucket } from '../store/rollout/cohort';
import type { RevokeResult } from '../channels/rcs/types';
import { normaliseSmscId } from '../channels/sms/delivery-receipt';
import type { SmsPartRef } from '../channels/sms/types';
import type { AuditContext, AuditEntry } from '../store/audit-log';
import type { ActivityDeps, DeliveryPolicy } from './deps';
import { mappingFailures } from './failures';

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
  /** MLS ciphertext (base64) made by the sender's app; sent instead of the text. */
  e2ee?: { ciphertext: string; welcome?: string };
}

export interface RcsRevokeInput extends RecipientRef {
  /** Which of the message's RCS sends: the encrypted one or the plain one. */
  e2ee: boolean;
}

/** The encrypted send of a message has an RBM id of its own, so a plain send may follow it. */
const rbmMessageId = (messageId: string, e2ee: boolean) => (e2ee ? uuidV5(`${messageId}:e2ee`) : messageId);

export interface SmsSendInput extends RecipientRef {
  workflowId: string;
  text: string;
}

export interface SmsSent {
  /** One SMSC message id per part, in part order. */
  smscMessageIds: string[];
}

export interface RoutingInput {
  to: string;
  region: string;
}

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
  return {
    async getDeliveryPolicy(): Promise<DeliveryPolicy> {
      return Promise.resolve(deps.policy);
    },

    async probeCapability(input: RecipientRef): Promise<RecipientCapability> {
      return mappingFailures(() =>
        deps.channels.forRegion(input.region).capabilities.probe(input.to, input.messageId),
      );
    },

    /** Returns the RBM message id it used, which the hub's events will carry. */
    async sendRcs(input: RcsSendInput): Promise<{ rbmMessageId: string }> {
      const rcsHub = await mappingFailures(() =>
        Promise.resolve(deps.channels.forRegion(input.region).rcsHub),
      );
      const id = rbmMessageId(input.messageId, !!input.e2ee);
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
      return { rbmMessageId: id };
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
    async sendSms(input: SmsSendInput): Promise<SmsSent> {
      const earlier = await deps.smsSubmissions.forMessage(input.messageId);
      const accepted = new Map<number, string>();
      const earlierParts = earlier.find((r) => r.state !== 'submitting')?.parts ?? 0;
      for (const r of earlier) {
        if (r.state !== 'submitting' && r.parts === earlierParts) accepted.set(r.part, r.smscMessageId);
      }
      if (earlierParts > 0 && accepted.size === earlierParts) {
        return { smscMessageIds: [...accepted.entries()].sort(([a], [b]) => a - b).map(([, id]) => id) };
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
      return { smscMessageIds: result.smscMessageIds.map((id, i) => ids.get(i + 1) ?? id) };
    },

    /** Recipe A: the media, encrypted at rest behind a link bound to the recipient. */
    async createShortlink(input: RecipientRef & { media: MediaAttachment }): Promise<{ url: string }> {
      const { url } = await deps.shortlinks.create({
        messageId: input.messageId,
        recipient: input.to,
        media: Buffer.from(input.media.data, 'base64'),
        contentType: input.media.contentType,
        fileName: input.media.fileName,
      });
      return { url };
    },

    async recordAudit(input: AuditInput): Promise<void> {
      await deps.audit.append(input.context, input.entries);
    },

    async getRoutingContext(input: RoutingInput): Promise<RoutingContext> {
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
