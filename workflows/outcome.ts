import type {
  AttemptRecord,
  ChannelName,
  DeliveryOutcome,
  FallbackReason,
  Flow,
  PilotReport,
} from '../domain/message';
import { DeliveryChannelKey, FallbackReasonKey } from './definitions';
import { syntheticMark } from './audit-trail';
import type { DeliveryRun } from './delivery-run';
import type { RoutePlan } from './route';

/** What the channels came to, in turn or in a pilot's race. */
export interface ChannelsResult {
  delivered: boolean;
  channel: ChannelName | null;
  attempts: AttemptRecord[];
  fallbackReason: FallbackReason | null;
  rcsMs: number | null;
  smsMs: number | null;
  pilot: PilotReport | null;
  e2ee: boolean;
}

export interface Concluded {
  plan: RoutePlan;
  flow: Flow;
  result: ChannelsResult;
  shortlink: boolean;
  startedAt: number;
  probeMs: number;
}

/** The message's outcome, published to search attributes and closing its audit trail. */
export function conclude(run: DeliveryRun, { plan, flow, result, shortlink, startedAt, probeMs }: Concluded) {
  if (result.channel) run.setAttribute({ key: DeliveryChannelKey, value: result.channel });
  if (result.fallbackReason) run.setAttribute({ key: FallbackReasonKey, value: result.fallbackReason });
  run.enter(result.delivered ? 'delivered' : 'failed');
  const outcome: DeliveryOutcome = {
    messageId: run.request.messageId,
    workflowId: run.workflowId,
    status: result.delivered ? 'delivered' : 'failed',
    channel: result.delivered ? result.channel : null,
    e2ee: result.delivered && result.e2ee,
    attempts: result.attempts,
    fallbackReason: result.fallbackReason,
    shortlink,
    timings: {
      totalMs: Date.now() - startedAt,
      probeMs,
      rcsMs: result.rcsMs,
      smsMs: result.smsMs,
      e2eeNegotiationMs: run.request.e2eePayload?.negotiationMs ?? null,
    },
    flow,
    configVersion: plan.configVersion,
    authoritative: result.delivered ? result.channel : null,
    pilot: result.pilot,
  };
  run.audit.add({
    event: result.delivered ? 'completed' : 'failed',
    channel: outcome.channel,
    result: outcome.status,
    errorCode: result.delivered
      ? null
      : (result.attempts.filter((a) => !a.supplementary).at(-1)?.errorCode ?? plan.reason),
    detail: {
      fallbackReason: outcome.fallbackReason,
      totalMs: outcome.timings.totalMs,
      configVersion: plan.configVersion,
      duplicate: result.pilot?.duplicate ?? null,
      // For the metrics counted from this row (metrics/delivery-meter.ts): the guard's measure of
      // RCS fallback (store/rollout/guard-store.ts) and the timings, without a second lookup.
      flow,
      ...rcsFallbackOf(plan, result),
      rcsMs: result.rcsMs,
      smsMs: result.smsMs,
      e2eeNegotiationMs: outcome.timings.e2eeNegotiationMs ?? null,
      ...syntheticMark(run.request),
    },
  });
  return outcome;
}

/** RCS-eligible: the plan started with RCS; fell back: it did not end on RCS, or met RCS trouble. */
function rcsFallbackOf(plan: RoutePlan, result: ChannelsResult) {
  const rcsEligible = plan.steps[0]?.channel === 'rcs';
  const rcsTrouble = result.attempts.some(
    (a) => a.channel === 'rcs' && (a.result === 'failed' || a.result === 'revoked'),
  );
  const onRcs = result.delivered && result.channel === 'rcs';
  return { rcsEligible, rcsFellBack: rcsEligible && (!onRcs || rcsTrouble) };
}
