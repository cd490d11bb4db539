import { condition, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import type { ChildWorkflowHandle } from '@temporalio/workflow';
import type { DeliveryPolicy } from '../activities';
import type {
  AttemptRecord,
  ChannelName,
  DeliveryOutcome,
  DeliveryRequest,
  FallbackReason,
  PilotReport,
  RecipientCapability,
} from '../domain/message';
import {
  createShortlink,
  getDeliveryPolicy,
  getRoutingContext,
  probeCapability,
  probeCapabilityLocally,
} from './activities-proxy';
import { ChannelRunner, channelFailure } from './channel-runner';
import type { StepResult } from './channel-runner';
import type { LiveStatus } from './definitions';
import {
  DeliveryChannelKey,
  FallbackReasonKey,
  MessageFlowKey,
  rcsEventSignal,
  smsReceiptSignal,
  standDownSignal,
  statusQuery,
} from './definitions';
import { deliverOverChannel } from './deliver-over-channel';
import type { ChannelDeliveryResult } from './deliver-over-channel';
import { effectiveFlow, route } from './route';
import type { RoutePlan } from './route';

// Audit rows of one message are numbered per workflow lane so the pilot's children never collide.
const AUDIT_LANE = { parent: 0, rcsChild: 1000, smsChild: 2000 } as const;

interface Delivered {
  delivered: boolean;
  channel: ChannelName | null;
  attempts: AttemptRecord[];
  fallbackReason: FallbackReason | null;
  rcsMs: number | null;
  smsMs: number | null;
  pilot: PilotReport | null;
  e2ee: boolean;
}

/** One message, from request to delivered or failed. */
export async function deliverMessage(request: DeliveryRequest): Promise<DeliveryOutcome> {
  const { workflowId } = workflowInfo();
  const startedAt = Date.now();
  // With policy.foldLookups the worker answers the probe and the routing context in this same
  // local activity; a policy without `lookups` (the setting off, or an older history) means
  // separate lookups below, as before.
  const { lookups, ...policy } = await getDeliveryPolicy({
    messageId: request.messageId,
    to: request.to,
    region: request.region,
  });
  const runner = new ChannelRunner(request, workflowId, policy, AUDIT_LANE.parent);
  let rcsChild: ChildWorkflowHandle<typeof deliverOverChannel> | null = null;
  let outcome: DeliveryOutcome | null = null;

  setHandler(rcsEventSignal, (event) => {
    // RBM events carry only the message id, which names this workflow; in a pilot the RCS copy
    // belongs to the child, so the event is passed on.
    if (rcsChild) void rcsChild.signal(rcsEventSignal, event).catch(() => undefined);
    else runner.onRcsEvent(event);
  });
  setHandler(smsReceiptSignal, (receipt) => runner.onSmsReceipt(receipt));
  setHandler(statusQuery, (): LiveStatus => ({
    step: runner.step,
    channel: null,
    attempts: [...runner.attempts],
    outcome,
  }));

  runner.setSearchAttribute({ key: MessageFlowKey, value: request.flow });
  await runner.audit({
    event: 'received',
    channel: null,
    result: null,
    errorCode: null,
    detail: { e2ee: request.e2ee },
  });

  runner.enter('probing');
  let capability: RecipientCapability | null = null;
  let regionUnserved = false;
  const probeFailed = async (failure: { type: string | null; code: string }) => {
    regionUnserved = failure.type === 'RegionUnservedError';
    await runner.audit({
      event: 'probe_failed',
      channel: 'rcs',
      result: 'failed',
      errorCode: failure.code,
      detail: {},
    });
  };
  if (lookups && policy.localProbe) {
    capability = lookups.capability;
    if (lookups.probeFailure) await probeFailed(lookups.probeFailure);
  } else {
    try {
      const probe = policy.localProbe ? probeCapabilityLocally : probeCapability;
      runner.publishSearchAttributes();
      capability = await probe({
        messageId: request.messageId,
        to: request.to,
        region: request.region,
      });
    } catch (err) {
      await probeFailed(channelFailure(err));
    }
  }
  const probeMs = Date.now() - startedAt;
  const context = lookups?.routing ?? (await getRoutingContext({ to: request.to, region: request.region }));
  // Residency: with no carrier in the message's region there is nothing to send through.
  const plan: RoutePlan = regionUnserved
    ? {
        ...route(request, null, context),
        mode: 'sequential',
        steps: [],
        supplementaryRcs: false,
        reason: 'region_unserved',
      }
    : route(request, capability, context);
  const flow = effectiveFlow(request, plan);
  if (flow !== request.flow) runner.setSearchAttribute({ key: MessageFlowKey, value: flow });
  await runner.audit({
    event: 'routed',
    channel: plan.steps[0]?.channel ?? null,
    result: null,
    errorCode: null,
    detail: {
      plan: plan.steps.map((s) => s.channel).join('>'),
      mode: plan.mode,
      reason: plan.reason,
      flow,
      phase: plan.phase,
      configVersion: plan.configVersion,
      cohortBucket: context.cohortBucket,
      guardThrottled: context.guardThrottled,
      rcs: capability?.rcs ?? null,
      e2ee: capability?.e2ee ?? null,
      capabilitySource: capability?.source ?? null,
    },
  });

  // Recipe A: a file goes behind a secure link bound to the recipient, and the link goes in the text.
  let shortlink = false;
  if (request.media && plan.steps.length > 0) {
    runner.publishSearchAttributes();
    try {
      const { url } = await createShortlink({
        messageId: request.messageId,
        to: request.to,
        region: request.region,
        tenant: request.tenant,
        media: request.media,
      });
      runner.text = `${request.text} ${url}`;
      shortlink = true;
      await runner.audit({
        event: 'shortlink',
        channel: null,
        result: 'created',
        errorCode: null,
        detail: {},
      });
    } catch (err) {
      // No file to link (an unknown, expired or other tenant's upload; the store down past its
      // retries): the text still goes out, routed as planned. The outcome says shortlink: false,
      // the trail says why.
      const { code } = channelFailure(err);
      await runner.audit({
        event: 'shortlink',
        channel: null,
        result: 'failed',
        errorCode: code,
        detail: {},
      });
    }
  }

  const result =
    plan.mode === 'dual'
      ? await deliverBothWays(request, workflowId, policy, runner, (child) => (rcsChild = child))
      : await deliverInTurn(request, plan, runner);

  if (result.channel) runner.setSearchAttribute({ key: DeliveryChannelKey, value: result.channel });
  if (result.fallbackReason)
    runner.setSearchAttribute({ key: FallbackReasonKey, value: result.fallbackReason });
  runner.enter(result.delivered ? 'delivered' : 'failed');
  outcome = {
    messageId: request.messageId,
    workflowId,
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
      e2eeNegotiationMs: request.e2eePayload?.negotiationMs ?? null,
    },
    flow,
    configVersion: plan.configVersion,
    authoritative: result.delivered ? result.channel : null,
    pilot: result.pilot,
  };
  await runner.audit({
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
    },
  });
  await runner.flushAudit();
  return outcome;
}

/** Standard and critical flows: one channel after another until one delivers. */
async function deliverInTurn(
  request: DeliveryRequest,
  plan: RoutePlan,
  runner: ChannelRunner,
): Promise<Delivered> {
  let e2ee = false;
  // These reasons explain the whole outcome; a later step's failure must not overwrite them.
  const terminal = plan.reason === 'e2ee_unavailable' || plan.reason === 'region_unserved';
  let fallbackReason: FallbackReason | null = terminal ? null : plan.reason;
  const latency: Record<'rcs' | 'sms', number | null> = { rcs: null, sms: null };
  let delivered: ChannelName | null = null;
  for (const step of plan.steps) {
    runner.setSearchAttribute({ key: DeliveryChannelKey, value: step.channel });
    const result =
      step.channel === 'sms'
        ? await runner.trySms()
        : await runner.tryRcs(step.e2ee && request.e2eePayload ? { e2ee: request.e2eePayload } : {});
    if (result.delivered) {
      latency[step.channel] = result.latencyMs;
      delivered = step.channel;
      e2ee = !!result.e2ee;
      break;
    }
    if (result.reason) fallbackReason = result.reason;
  }
  if (plan.supplementaryRcs) {
    const copy = await runner.tryRcs({ supplementary: true });
    if (copy.delivered) latency.rcs = copy.latencyMs;
  }
  return {
    delivered: delivered !== null,
    channel: delivered,
    attempts: runner.attempts,
    fallbackReason: terminal ? plan.reason : fallbackReason,
    rcsMs: latency.rcs,
    smsMs: latency.sms,
    pilot: null,
    e2ee,
  };
}

/**
 * Pilot (Recipe C): RCS and SMS at once as child workflows. The first delivery wins; an RCS copy
 * still in flight is revoked, and a loser that delivered anyway is recorded as a duplicate.
 */
async function deliverBothWays(
  request: DeliveryRequest,
  workflowId: string,
  policy: DeliveryPolicy,
  runner: ChannelRunner,
  onRcsChild: (child: ChildWorkflowHandle<typeof deliverOverChannel>) => void,
): Promise<Delivered> {
  runner.enter('pilot');
  await runner.flushAudit();
  const rcs = await startChild(deliverOverChannel, {
    workflowId: `${workflowId}-rcs`,
    args: [
      {
        request: childRequest(request, runner.text),
        channel: 'rcs',
        policy,
        auditSeqBase: AUDIT_LANE.rcsChild,
      },
    ],
  });
  onRcsChild(rcs);
  const sms = await startChild(deliverOverChannel, {
    workflowId: `${workflowId}-sms`,
    args: [
      {
        request: childRequest(request, runner.text),
        channel: 'sms',
        policy,
        auditSeqBase: AUDIT_LANE.smsChild,
      },
    ],
  });
  let rcsDone: ChannelDeliveryResult | null = null;
  let smsDone: ChannelDeliveryResult | null = null;
  const both = Promise.all([
    rcs.result().then((r) => (rcsDone = r)),
    sms.result().then((r) => (smsDone = r)),
  ]);
  await condition(
    () => !!smsDone?.result.delivered || !!rcsDone?.result.delivered || (!!rcsDone && !!smsDone),
  );
  if (smsDone && (smsDone as ChannelDeliveryResult).result.delivered && !rcsDone)
    await rcs.signal(standDownSignal);
  const [rcsResult, smsResult] = await both;

  const at = (r: StepResult) => (r.delivered ? r.deliveredAt : Number.POSITIVE_INFINITY);
  const rcsAt = at(rcsResult.result);
  const smsAt = at(smsResult.result);
  const winner = rcsAt === Infinity && smsAt === Infinity ? null : rcsAt <= smsAt ? 'rcs' : 'sms';
  const loserResult = winner === 'rcs' ? smsResult.result : winner === 'sms' ? rcsResult.result : null;
  const loser: PilotReport['loser'] = !loserResult
    ? null
    : loserResult.delivered
      ? 'duplicate'
      : loserResult.revoked
        ? 'revoked'
        : 'not-delivered';
  const latency = (r: StepResult) => (r.delivered ? r.latencyMs : null);
  const attempts = [...rcsResult.attempts, ...smsResult.attempts].sort((a, b) => a.at.localeCompare(b.at));
  return {
    delivered: winner !== null,
    channel: winner,
    attempts,
    fallbackReason: null,
    rcsMs: latency(rcsResult.result),
    smsMs: latency(smsResult.result),
    e2ee: false,
    pilot: {
      winner,
      rcsLatencyMs: latency(rcsResult.result),
      smsLatencyMs: latency(smsResult.result),
      loser,
      duplicate: loser === 'duplicate',
    },
  };
}

/** What a pilot child uses of the request: the text (with its link) to send; media and E2EE stay with the parent. */
function childRequest(request: DeliveryRequest, text: string): DeliveryRequest {
  const { messageId, to, flow, e2ee, tenant, region, submittedAt } = request;
  return { messageId, to, text, flow, e2ee, tenant, region, submittedAt };
}
