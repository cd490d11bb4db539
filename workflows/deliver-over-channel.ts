import { setHandler, workflowInfo } from '@temporalio/workflow';
import type { DeliveryPolicy } from '../activities';
import type { AttemptRecord, DeliveryRequest } from '../domain/message';
import { ChannelRunner } from './channel-runner';
import type { StepResult } from './channel-runner';
import type { LiveStatus } from './definitions';
import { rcsEventSignal, smsReceiptSignal, standDownSignal, statusQuery } from './definitions';

export interface ChannelDeliveryInput {
  request: DeliveryRequest;
  channel: 'rcs' | 'sms';
  policy: DeliveryPolicy;
  auditSeqBase: number;
}

export interface ChannelDeliveryResult {
  channel: 'rcs' | 'sms';
  result: StepResult;
  attempts: AttemptRecord[];
}

/** One channel of a pilot's dual delivery, run as a child of deliverMessage. */
export async function deliverOverChannel(input: ChannelDeliveryInput): Promise<ChannelDeliveryResult> {
  const runner = new ChannelRunner(
    input.request,
    workflowInfo().workflowId,
    input.policy,
    input.auditSeqBase,
  );
  setHandler(rcsEventSignal, (event) => runner.onRcsEvent(event));
  setHandler(smsReceiptSignal, (receipt) => runner.onSmsReceipt(receipt));
  setHandler(standDownSignal, () => runner.onStandDown());
  setHandler(statusQuery, (): LiveStatus => ({
    step: runner.step,
    channel: input.channel,
    attempts: [...runner.attempts],
    outcome: null,
  }));
  const result = input.channel === 'rcs' ? await runner.tryRcs() : await runner.trySms();
  runner.enter(result.delivered ? 'delivered' : 'failed');
  await runner.flushAudit();
  return { channel: input.channel, result, attempts: runner.attempts };
}
