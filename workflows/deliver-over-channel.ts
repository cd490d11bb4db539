import { setHandler, workflowInfo } from '@temporalio/workflow';
import type { AttemptRecord, DeliveryPolicy, DeliveryRequest } from '../domain/message';
import { standDownSignal } from './definitions';
import { DeliveryRun } from './delivery-run';
import { attemptRcs } from './rcs-attempt';
import { sealedInput } from './refusals';
import { attemptSms } from './sms-attempt';
import type { StepResult } from './step-result';

export interface ChannelDeliveryInput {
  /** The message as the parent sends it: its text already carries a link for media. */
  request: Omit<DeliveryRequest, 'media'>;
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
export async function deliverOverChannel(sealed: ChannelDeliveryInput): Promise<ChannelDeliveryResult> {
  const input = sealedInput(sealed);
  const run = new DeliveryRun(input.request, workflowInfo().workflowId, input.policy, input.auditSeqBase);
  run.listen(() => ({ channel: input.channel, outcome: null }));
  setHandler(standDownSignal, () => {
    run.receipts.standDown = true;
  });
  const result = input.channel === 'rcs' ? await attemptRcs(run) : await attemptSms(run);
  run.enter(result.delivered ? 'delivered' : 'failed');
  await run.flush();
  return { channel: input.channel, result, attempts: run.attempts };
}
