import { condition, startChild } from '@temporalio/workflow';
import type { PilotReport } from '../domain/message';
import { AUDIT_LANE } from './audit-trail';
import { standDownSignal } from './definitions';
import { deliverOverChannel } from './deliver-over-channel';
import type { ChannelDeliveryInput, ChannelDeliveryResult } from './deliver-over-channel';
import type { DeliveryRun } from './delivery-run';
import type { ChannelsResult } from './outcome';
import type { StepResult } from './step-result';

/**
 * Pilot (Recipe C): RCS and SMS at once as child workflows. The first delivery wins; an RCS copy
 * still in flight is revoked, and a loser that delivered anyway is recorded as a duplicate. RBM
 * events reach the RCS child directly: its send recorded the child's workflow id.
 */
export async function raceChannels(run: DeliveryRun): Promise<ChannelsResult> {
  run.enter('pilot');
  await run.flush();
  // What a child uses of the request: the text as the parent built it (with its link); media and
  // the E2EE payload stay with the parent.
  const { messageId, to, flow, e2ee, tenant, region, submittedAt } = run.request;
  const request = { messageId, to, text: run.text, flow, e2ee, tenant, region, submittedAt };
  const child = (channel: 'rcs' | 'sms', auditSeqBase: number) =>
    startChild(deliverOverChannel, {
      workflowId: `${run.workflowId}-${channel}`,
      args: [{ request, channel, policy: run.policy, auditSeqBase } satisfies ChannelDeliveryInput],
    });
  const rcs = await child('rcs', AUDIT_LANE.rcsChild);
  const sms = await child('sms', AUDIT_LANE.smsChild);
  let rcsDone: ChannelDeliveryResult | null = null;
  let smsDone: ChannelDeliveryResult | null = null;
  const both = Promise.all([
    rcs.result().then((r) => (rcsDone = r)),
    sms.result().then((r) => (smsDone = r)),
  ]);
  await condition(
    () => !!smsDone?.result.delivered || !!rcsDone?.result.delivered || (!!rcsDone && !!smsDone),
  );
  if ((smsDone as ChannelDeliveryResult | null)?.result.delivered && !rcsDone) {
    // The RCS child may finish before the signal reaches it ("not found"): its result, awaited
    // next, is then the answer, so a failed stand-down changes nothing.
    await rcs.signal(standDownSignal).catch(() => undefined);
  }
  const [rcsResult, smsResult] = await both;
  return judgeRace(rcsResult, smsResult);
}

function judgeRace(rcs: ChannelDeliveryResult, sms: ChannelDeliveryResult): ChannelsResult {
  const at = (r: StepResult) => (r.delivered ? r.deliveredAt : Number.POSITIVE_INFINITY);
  const rcsAt = at(rcs.result);
  const smsAt = at(sms.result);
  const winner = rcsAt === Infinity && smsAt === Infinity ? null : rcsAt <= smsAt ? 'rcs' : 'sms';
  const loserResult = winner === 'rcs' ? sms.result : winner === 'sms' ? rcs.result : null;
  const loser: PilotReport['loser'] = !loserResult
    ? null
    : loserResult.delivered
      ? 'duplicate'
      : loserResult.revoked
        ? 'revoked'
        : 'not-delivered';
  const latency = (r: StepResult) => (r.delivered ? r.latencyMs : null);
  const attempts = [...rcs.attempts, ...sms.attempts].sort((a, b) => a.at.localeCompare(b.at));
  return {
    delivered: winner !== null,
    channel: winner,
    attempts,
    fallbackReason: null,
    rcsMs: latency(rcs.result),
    smsMs: latency(sms.result),
    e2ee: false,
    pilot: {
      winner,
      rcsLatencyMs: latency(rcs.result),
      smsLatencyMs: latency(sms.result),
      loser,
      duplicate: loser === 'duplicate',
    },
  };
}
