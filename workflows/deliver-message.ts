import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ChannelFailureDetails } from '../activities/failures';
import type {
  AttemptRecord,
  ChannelName,
  DeliveryOutcome,
  DeliveryRequest,
  FallbackReason,
  RecipientCapability,
} from '../domain/message';
import type { AuditEntry } from '../store/audit-log';
import type { DeliveryStep, LiveStatus, SmsReceiptSignal } from './definitions';
import {
  DeliveryChannelKey,
  DeliveryStateKey,
  FallbackReasonKey,
  MessageFlowKey,
  rcsEventSignal,
  smsReceiptSignal,
  statusQuery,
} from './definitions';
import { route } from './route';

const { getDeliveryPolicy, recordAudit } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 10 },
});

const { probeCapability, revokeRcs } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 ms', maximumAttempts: 3, nonRetryableErrorTypes: ['RcsPermanentError'] },
});

// RCS attempts are counted by the workflow, not by Temporal's retry, so that each attempt's
// error code reaches the outcome and the cap is the policy's. Temporal retries only failures
// that carry no type of ours (a crashed worker, a bug); a resend is harmless, RBM dedupes on messageId.
const { sendRcs } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { maximumAttempts: 2, nonRetryableErrorTypes: ['RcsTransientError', 'RcsPermanentError'] },
});

// SMS is the path that must not fail: transient SMSC trouble is retried for as long as it lasts.
const { sendSms } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['SmsPermanentError'],
  },
});

const FINAL_SMS_STATES = new Set(['DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'REJECTD', 'UNKNOWN']);

type StepResult =
  { delivered: true } | { delivered: false; reason: FallbackReason | null; errorCode: string | null };

/** One message, from request to delivered or failed. */
export async function deliverMessage(request: DeliveryRequest): Promise<DeliveryOutcome> {
  const { workflowId } = workflowInfo();
  const startedAt = Date.now();
  const attempts: AttemptRecord[] = [];
  const smsReceipts = new Map<string, SmsReceiptSignal>();
  let rcsDelivered = false;
  let step: DeliveryStep = 'received';
  let channel: ChannelName | null = null;
  let outcome: DeliveryOutcome | null = null;
  let seq = 0;
  const timings = { totalMs: 0, probeMs: 0, rcsMs: null as number | null, smsMs: null as number | null };

  setHandler(rcsEventSignal, (event) => {
    if (event.eventType === 'DELIVERED' || event.eventType === 'READ') rcsDelivered = true;
  });
  setHandler(smsReceiptSignal, (receipt) => {
    // Duplicates overwrite with the same value; a later final state wins over an interim one.
    const known = smsReceipts.get(receipt.smscMessageId);
    if (!known || !FINAL_SMS_STATES.has(known.state)) smsReceipts.set(receipt.smscMessageId, receipt);
  });
  setHandler(statusQuery, (): LiveStatus => ({ step, channel, attempts: [...attempts], outcome }));

  const auditContext = {
    tenant: request.tenant,
    recipient: request.to,
    region: request.region,
    flow: request.flow,
  };
  const audit = (entry: Omit<AuditEntry, 'messageId' | 'seq' | 'occurredAt'>) =>
    recordAudit({
      context: auditContext,
      entries: [{ ...entry, messageId: request.messageId, seq: seq++, occurredAt: new Date().toISOString() }],
    });
  const enter = (next: DeliveryStep) => {
    step = next;
    upsertSearchAttributes([{ key: DeliveryStateKey, value: next }]);
  };
  const attempt = (record: Omit<AttemptRecord, 'at'>) =>
    attempts.push({ ...record, at: new Date().toISOString() });

  upsertSearchAttributes([{ key: MessageFlowKey, value: request.flow }]);
  const policy = await getDeliveryPolicy();
  await audit({
    event: 'received',
    channel: null,
    result: null,
    errorCode: null,
    detail: { e2ee: request.e2ee },
  });

  enter('probing');
  let capability: RecipientCapability | null = null;
  try {
    capability = await probeCapability({ messageId: request.messageId, to: request.to });
  } catch (err) {
    const failure = channelFailure(err);
    await audit({
      event: 'probe_failed',
      channel: 'rcs',
      result: 'failed',
      errorCode: failure.code,
      detail: {},
    });
  }
  timings.probeMs = Date.now() - startedAt;
  const plan = route(request, capability);
  await audit({
    event: 'routed',
    channel: plan.steps[0]?.channel ?? null,
    result: null,
    errorCode: null,
    detail: {
      plan: plan.steps.map((s) => s.channel).join('>'),
      reason: plan.reason,
      rcs: capability?.rcs ?? null,
      e2ee: capability?.e2ee ?? null,
      capabilitySource: capability?.source ?? null,
    },
  });

  async function tryRcs(): Promise<StepResult> {
    const sentAt = Date.now();
    for (let n = 1; ; n++) {
      enter('sending-rcs');
      try {
        await sendRcs({ messageId: request.messageId, to: request.to, text: request.text });
        break;
      } catch (err) {
        const failure = channelFailure(err);
        attempt({ channel: 'rcs', result: 'failed', errorCode: failure.code });
        await audit({
          event: 'attempt',
          channel: 'rcs',
          result: 'failed',
          errorCode: failure.code,
          detail: { n },
        });
        if (failure.type !== 'RcsTransientError') {
          return { delivered: false, reason: 'rcs_permanent_error', errorCode: failure.code };
        }
        if (n >= policy.rcsMaxAttempts) {
          return { delivered: false, reason: 'rcs_retries_exhausted', errorCode: failure.code };
        }
        await sleep(failure.retryAfterMs ?? policy.rcsRetryBackoffMs * 2 ** (n - 1));
      }
    }
    enter('awaiting-rcs-receipt');
    await audit({ event: 'accepted', channel: 'rcs', result: 'accepted', errorCode: null, detail: {} });
    if (!(await condition(() => rcsDelivered, policy.rcsReceiptTimeoutMs))) {
      enter('revoking-rcs');
      const revoked = await revokeRcs({ messageId: request.messageId, to: request.to });
      if (revoked === 'revoked') {
        attempt({ channel: 'rcs', result: 'revoked', errorCode: 'RECEIPT_TIMEOUT' });
        await audit({
          event: 'revoked',
          channel: 'rcs',
          result: 'revoked',
          errorCode: 'RECEIPT_TIMEOUT',
          detail: {},
        });
        return { delivered: false, reason: 'rcs_receipt_timeout', errorCode: 'RECEIPT_TIMEOUT' };
      }
      // The hub answered "too late": the phone has the message, so RCS delivered it.
    }
    timings.rcsMs = Date.now() - sentAt;
    attempt({ channel: 'rcs', result: 'delivered', errorCode: null });
    await audit({ event: 'delivered', channel: 'rcs', result: 'delivered', errorCode: null, detail: {} });
    return { delivered: true };
  }

  async function trySms(): Promise<StepResult> {
    enter('sending-sms');
    const sentAt = Date.now();
    let smscMessageIds: string[];
    try {
      ({ smscMessageIds } = await sendSms({
        messageId: request.messageId,
        workflowId,
        to: request.to,
        text: request.text,
      }));
    } catch (err) {
      const failure = channelFailure(err);
      attempt({ channel: 'sms', result: 'failed', errorCode: failure.code });
      await audit({
        event: 'attempt',
        channel: 'sms',
        result: 'failed',
        errorCode: failure.code,
        detail: {},
      });
      return { delivered: false, reason: null, errorCode: failure.code };
    }
    enter('awaiting-sms-receipt');
    await audit({
      event: 'accepted',
      channel: 'sms',
      result: 'accepted',
      errorCode: null,
      detail: { parts: smscMessageIds.length },
    });
    const finalFor = (id: string) => {
      const r = smsReceipts.get(id);
      return r && FINAL_SMS_STATES.has(r.state) ? r : undefined;
    };
    const allFinal = await condition(() => smscMessageIds.every(finalFor), policy.smsReceiptTimeoutMs);
    timings.smsMs = Date.now() - sentAt;
    if (!allFinal) {
      attempt({ channel: 'sms', result: 'timeout', errorCode: 'RECEIPT_TIMEOUT' });
      await audit({
        event: 'timeout',
        channel: 'sms',
        result: 'timeout',
        errorCode: 'RECEIPT_TIMEOUT',
        detail: {},
      });
      return { delivered: false, reason: null, errorCode: 'RECEIPT_TIMEOUT' };
    }
    const failedPart = smscMessageIds.map(finalFor).find((r) => r?.state !== 'DELIVRD');
    if (failedPart) {
      const code = `${failedPart.state}${failedPart.errorCode ? `:${failedPart.errorCode}` : ''}`;
      attempt({ channel: 'sms', result: 'failed', errorCode: code });
      await audit({ event: 'receipt', channel: 'sms', result: 'failed', errorCode: code, detail: {} });
      return { delivered: false, reason: null, errorCode: code };
    }
    attempt({ channel: 'sms', result: 'delivered', errorCode: null });
    await audit({ event: 'delivered', channel: 'sms', result: 'delivered', errorCode: null, detail: {} });
    return { delivered: true };
  }

  let fallbackReason: FallbackReason | null = plan.reason === 'e2ee_unavailable' ? null : plan.reason;
  let delivered = false;
  for (const routeStep of plan.steps) {
    channel = routeStep.channel;
    upsertSearchAttributes([{ key: DeliveryChannelKey, value: channel }]);
    const result = routeStep.channel === 'rcs' ? await tryRcs() : await trySms();
    if (result.delivered) {
      delivered = true;
      break;
    }
    if (result.reason) {
      fallbackReason = result.reason;
      upsertSearchAttributes([{ key: FallbackReasonKey, value: result.reason }]);
    }
  }
  if (fallbackReason) upsertSearchAttributes([{ key: FallbackReasonKey, value: fallbackReason }]);

  enter(delivered ? 'delivered' : 'failed');
  timings.totalMs = Date.now() - startedAt;
  outcome = {
    messageId: request.messageId,
    workflowId,
    status: delivered ? 'delivered' : 'failed',
    channel: delivered ? channel : null,
    e2ee: false,
    attempts,
    fallbackReason: plan.reason === 'e2ee_unavailable' ? 'e2ee_unavailable' : fallbackReason,
    shortlink: false,
    timings,
  };
  await audit({
    event: delivered ? 'completed' : 'failed',
    channel: outcome.channel,
    result: outcome.status,
    errorCode: delivered ? null : (attempts.at(-1)?.errorCode ?? plan.reason),
    detail: { fallbackReason: outcome.fallbackReason, totalMs: timings.totalMs },
  });
  return outcome;
}

function channelFailure(err: unknown): { type: string | null } & ChannelFailureDetails {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as ChannelFailureDetails | undefined;
    return {
      type: cause.type ?? null,
      code: details?.code ?? cause.type ?? 'UNKNOWN',
      retryAfterMs: details?.retryAfterMs ?? null,
    };
  }
  return { type: null, code: 'UNKNOWN', retryAfterMs: null };
}
