import type { RecipientCapability } from '../domain/message';
import type { RevokeResult } from '../channels/rcs/types';
import type { AuditContext, AuditEntry } from '../store/audit-log';
import type { ActivityDeps, DeliveryPolicy } from './deps';
import { mappingFailures } from './failures';

export type { ActivityDeps, DeliveryPolicy } from './deps';

export interface RecipientRef {
  messageId: string;
  to: string;
}

export interface RcsSendInput extends RecipientRef {
  text: string;
}

export interface SmsSendInput extends RecipientRef {
  workflowId: string;
  text: string;
}

export interface SmsSent {
  /** One SMSC message id per part, in part order. */
  smscMessageIds: string[];
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
      return mappingFailures(() => deps.capabilities.probe(input.to, input.messageId));
    },

    async sendRcs(input: RcsSendInput): Promise<void> {
      await mappingFailures(() => deps.rcsHub.sendMessage(input.to, input.messageId, { text: input.text }));
    },

    async revokeRcs(input: RecipientRef): Promise<RevokeResult> {
      return mappingFailures(() => deps.rcsHub.revokeMessage(input.to, input.messageId));
    },

    /**
     * Submits once per message: a retry after a crash that happened after the submissions were
     * recorded returns them instead of sending again. The window between the SMSC's answer and
     * the record is the one place a duplicate can still happen (README, "Duplicate SMS").
     */
    async sendSms(input: SmsSendInput): Promise<SmsSent> {
      const earlier = await deps.smsSubmissions.forMessage(input.messageId);
      if (earlier.length > 0 && earlier.length === earlier[0]?.parts) {
        return { smscMessageIds: earlier.map((r) => r.smscMessageId) };
      }
      const result = await mappingFailures(() =>
        deps.smsGateway.submit({ messageId: input.messageId, to: input.to, text: input.text }),
      );
      const parts = result.smscMessageIds.length;
      await deps.smsSubmissions.record(
        result.smscMessageIds.map((smscMessageId, i) => ({
          smscMessageId,
          messageId: input.messageId,
          workflowId: input.workflowId,
          part: i + 1,
          parts,
        })),
      );
      return { smscMessageIds: result.smscMessageIds };
    },

    async recordAudit(input: AuditInput): Promise<void> {
      await deps.audit.append(input.context, input.entries);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
