import type { ChannelName, FallbackReason } from '../domain/message';
import { DeliveryChannelKey } from './definitions';
import type { DeliveryRun } from './delivery-run';
import type { ChannelsResult } from './outcome';
import { attemptRcs } from './rcs-attempt';
import type { RoutePlan } from './route';
import { attemptSms } from './sms-attempt';

/** Standard and critical flows: one channel after another until one delivers. */
export async function deliverInTurn(run: DeliveryRun, plan: RoutePlan): Promise<ChannelsResult> {
  const { request } = run;
  // These reasons explain the whole outcome; a later step's failure must not overwrite them.
  const terminal = plan.reason === 'e2ee_unavailable' || plan.reason === 'region_unserved';
  let fallbackReason: FallbackReason | null = terminal ? null : plan.reason;
  const latency: Record<'rcs' | 'sms', number | null> = { rcs: null, sms: null };
  let delivered: ChannelName | null = null;
  let e2ee = false;
  for (const step of plan.steps) {
    run.setAttribute({ key: DeliveryChannelKey, value: step.channel });
    const result =
      step.channel === 'sms'
        ? await attemptSms(run, fallbackReason)
        : await attemptRcs(run, step.e2ee && request.e2eePayload ? { e2ee: request.e2eePayload } : {});
    if (result.delivered) {
      latency[step.channel] = result.latencyMs;
      delivered = step.channel;
      e2ee = !!result.e2ee;
      break;
    }
    if (result.reason) fallbackReason = result.reason;
  }
  if (plan.supplementaryRcs) {
    const copy = await attemptRcs(run, { supplementary: true });
    if (copy.delivered) latency.rcs = copy.latencyMs;
  }
  return {
    delivered: delivered !== null,
    channel: delivered,
    attempts: run.attempts,
    fallbackReason: terminal ? plan.reason : fallbackReason,
    rcsMs: latency.rcs,
    smsMs: latency.sms,
    pilot: null,
    e2ee,
  };
}
