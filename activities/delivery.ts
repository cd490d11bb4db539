import type { RecipientMatchHash } from '../channels/receipts/recipient-match';
import { Context } from '@temporalio/activity';
import { uuidV5 } from '../domain/uuid-v5';
import type { RevokeResult } from '../channels/rcs/types';
import { normaliseSmscId } from '../channels/sms/delivery-receipt';
import type { SmsPartRef } from '../channels/sms/types';
import type { AuditContext, AuditEntry } from '../domain/audit';
import type { AuditSink, DeliveryMeter, RcsSendIndex, RegionalChannels, SmsSubmissionIndex } from './deps';
import { mappingFailures } from './failures';
import type { RecipientRef } from './routing';

/**
 * The audit rows a send records once the carrier has the message: the rows still due and the
 * send's own 'accepted' row, in one write (occurredAt from the activity's clock; an SMS adds its
 * parts). A failed write fails nothing: `recorded: false` leaves the rows to the workflow.
 */
export interface SendAuditInput {
  context: AuditContext;
  before: AuditEntry[];
  accepted: Omit<AuditEntry, 'occurredAt'>;
}

export interface SendAuditResult {
  recorded: boolean;
}

export interface RcsSendInput extends RecipientRef {
  workflowId: string;
  /** Sent when there is no ciphertext. */
  text: string;
  /** MLS ciphertext (base64) made by the sender's app; sent instead of the text. */
  e2ee?: { ciphertext: string; welcome?: string };
  audit: SendAuditInput;
}

export interface RcsRevokeInput extends RecipientRef {
  /** Which of the message's RCS sends: the encrypted one or the plain one. */
  e2ee: boolean;
}

export interface SmsSendInput extends RecipientRef {
  workflowId: string;
  text: string;
  audit: SendAuditInput;
}

export interface SmsSent {
  /** One SMSC message id per part, in part order. */
  smscMessageIds: string[];
  audit: SendAuditResult;
}

export interface AuditInput {
  context: AuditContext;
  entries: AuditEntry[];
}

/** The encrypted send of a message has an RBM id of its own, so a plain send may follow it. */
const rbmMessageId = (messageId: string, e2ee: boolean) => (e2ee ? uuidV5(`${messageId}:e2ee`) : messageId);

export interface DeliveryDeps {
  channels: RegionalChannels;
  rcsSends: RcsSendIndex;
  smsSubmissions: SmsSubmissionIndex;
  /** Receipts are matched on their number too: a part is recorded with its number's keyed hash. */
  recipientHash: RecipientMatchHash;
  audit: AuditSink;
  meter?: DeliveryMeter;
}

/** Sends, revokes and the audit trail of one message. */
export function createDeliveryActivities(deps: DeliveryDeps) {
  // Outcomes are counted here, where the final audit row ('completed'/'failed') is written, and
  // only for the rows this very call inserted. The trail is idempotent per (messageId, seq): a
  // retried activity, or a workflow task replayed after a worker crash that schedules the write
  // again, inserts nothing and so counts nothing. The workflow itself never touches a meter.
  const append = async (context: AuditContext, entries: AuditEntry[]): Promise<void> => {
    const inserted = await deps.audit.append(context, entries);
    if (!deps.meter || inserted.length === 0) return;
    const isNew = new Set(inserted.map((k) => `${k.seq}\0${k.messageId}`));
    deps.meter.audited(
      context,
      entries.filter((e) => isNew.has(`${e.seq}\0${e.messageId}`)),
    );
  };

  const recordSent = async (
    audit: SendAuditInput,
    detail: AuditEntry['detail'],
  ): Promise<SendAuditResult> => {
    const accepted: AuditEntry = {
      ...audit.accepted,
      detail: { ...audit.accepted.detail, ...detail },
      occurredAt: new Date().toISOString(),
    };
    try {
      await append(audit.context, [...audit.before, accepted]);
      return { recorded: true };
    } catch {
      return { recorded: false };
    }
  };

  return {
    /** Returns the RBM message id it used, which the hub's events will carry. */
    async sendRcs(input: RcsSendInput): Promise<{ rbmMessageId: string; audit: SendAuditResult }> {
      const rcsHub = await mappingFailures(() =>
        Promise.resolve(deps.channels.forRegion(input.region).rcsHub),
      );
      const id = rbmMessageId(input.messageId, !!input.e2ee);
      // A retry after an attempt that got the message to the hub and recorded it (then crashed
      // before answering): nothing to resend, and the workflow must not write that seq again.
      const { accepted } = input.audit;
      if (
        Context.current().info.attempt > 1 &&
        (await deps.audit.hasEntry(accepted.messageId, accepted.seq))
      ) {
        return { rbmMessageId: id, audit: { recorded: true } };
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
      return { rbmMessageId: id, audit: await recordSent(input.audit, {}) };
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
      return whileHeartbeating(() => sendSmsParts(input));
    },

    async recordAudit(input: AuditInput): Promise<void> {
      await append(input.context, input.entries);
    },
  };

  async function sendSmsParts(input: SmsSendInput): Promise<SmsSent> {
    const earlier = await deps.smsSubmissions.forMessage(input.messageId);
    const accepted = new Map<number, string>();
    const earlierParts = earlier.find((r) => r.state !== 'submitting')?.parts ?? 0;
    for (const r of earlier) {
      if (r.state !== 'submitting' && r.parts === earlierParts) accepted.set(r.part, r.smscMessageId);
    }
    if (earlierParts > 0 && accepted.size === earlierParts) {
      const smscMessageIds = [...accepted.entries()].sort(([a], [b]) => a - b).map(([, id]) => id);
      return { smscMessageIds, audit: await recordSent(input.audit, { parts: smscMessageIds.length }) };
    }
    const part = (ref: SmsPartRef) => ({
      ...ref,
      messageId: input.messageId,
      workflowId: input.workflowId,
    });
    // The region's SMSC is the connector its receipts come back on.
    const recipient = { connector: input.region, recipientHash: deps.recipientHash(input.to) };
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
            await deps.smsSubmissions.record([
              { ...part(ref), state: 'accepted', smscMessageId, ...recipient },
            ]);
            ids.set(ref.part, normaliseSmscId(smscMessageId));
          },
        },
      ),
    );
    const smscMessageIds = result.smscMessageIds.map((id, i) => ids.get(i + 1) ?? id);
    return { smscMessageIds, audit: await recordSent(input.audit, { parts: smscMessageIds.length }) };
  }
}

/**
 * Heartbeats while `work` runs, so a worker that dies mid-send (SIGKILL, a lost machine) is noticed
 * after the heartbeat timeout of sendSmsOptions (10 s), not the attempt's whole two minutes; a slow SMSC does
 * not count, since the process is alive and beating.
 */
async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(), 1000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
