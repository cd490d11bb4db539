import { condition } from '@temporalio/workflow';
import { sendSms } from './activities-proxy';
import type { FallbackReason } from '../domain/message';
import type { DeliveryRun } from './delivery-run';
import { channelFailure } from './step-result';
import type { StepResult } from './step-result';

/**
 * One SMS step: submit every part, then wait for a final receipt of each. `fallbackReason`: why
 * the message is going by SMS, recorded on its 'accepted' row (the app's "fell back" callback).
 */
export async function attemptSms(
  run: DeliveryRun,
  fallbackReason: FallbackReason | null = null,
): Promise<StepResult> {
  run.enter('sending-sms');
  const reason: Record<string, string> = fallbackReason ? { fallbackReason } : {};
  const sentAt = Date.now();
  let smscMessageIds: string[];
  let acceptedRecorded: boolean;
  try {
    run.publish();
    const audit = run.audit.handOff('sms', reason);
    const sent = await sendSms({ ...run.messageRef, workflowId: run.workflowId, text: run.text, audit });
    smscMessageIds = sent.smscMessageIds;
    acceptedRecorded = run.audit.settle(audit, sent.audit);
  } catch (err) {
    const { code } = channelFailure(err);
    run.record(
      { channel: 'sms', result: 'failed', errorCode: code },
      { event: 'attempt', channel: 'sms', result: 'failed', errorCode: code, detail: {} },
    );
    return { delivered: false, reason: null, errorCode: code };
  }
  run.enter('awaiting-sms-receipt');
  if (!acceptedRecorded) {
    run.audit.add({
      event: 'accepted',
      channel: 'sms',
      result: 'accepted',
      errorCode: null,
      detail: { parts: smscMessageIds.length, ...reason },
    });
  }
  const final = (id: string) => run.receipts.finalSmsReceipt(id);
  await run.flush();
  if (!(await condition(() => smscMessageIds.every(final), run.policy.smsReceiptTimeoutMs))) {
    run.record(
      { channel: 'sms', result: 'timeout', errorCode: 'RECEIPT_TIMEOUT' },
      { event: 'timeout', channel: 'sms', result: 'timeout', errorCode: 'RECEIPT_TIMEOUT', detail: {} },
    );
    return { delivered: false, reason: null, errorCode: 'RECEIPT_TIMEOUT' };
  }
  const failedPart = smscMessageIds.map(final).find((r) => r?.state !== 'DELIVRD');
  if (failedPart) {
    const code = `${failedPart.state}${failedPart.errorCode ? `:${failedPart.errorCode}` : ''}`;
    run.record(
      { channel: 'sms', result: 'failed', errorCode: code },
      { event: 'receipt', channel: 'sms', result: 'failed', errorCode: code, detail: {} },
    );
    return { delivered: false, reason: null, errorCode: code };
  }
  const deliveredAt = Date.now();
  run.record(
    { channel: 'sms', result: 'delivered', errorCode: null },
    { event: 'delivered', channel: 'sms', result: 'delivered', errorCode: null, detail: {} },
  );
  return { delivered: true, deliveredAt, latencyMs: deliveredAt - sentAt };
}
