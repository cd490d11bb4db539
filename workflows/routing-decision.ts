import type { DeliveryLookups } from '../activities';
import { FailureType } from '../domain/failures';
import type { Flow } from '../domain/message';
import { MessageFlowKey } from './definitions';
import { syntheticMark } from './audit-trail';
import type { DeliveryRun } from './delivery-run';
import { effectiveFlow, route } from './route';
import type { RoutePlan } from './route';

/** The route for this message from what the lookups learnt, audited with why. */
export function decideRoute(run: DeliveryRun, lookups: DeliveryLookups): { plan: RoutePlan; flow: Flow } {
  const { request } = run;
  const { capability, probeFailure, routing: context } = lookups;
  if (probeFailure) {
    run.audit.add({
      event: 'probe_failed',
      channel: 'rcs',
      result: 'failed',
      errorCode: probeFailure.code,
      detail: {},
    });
  }
  // Residency: with no carrier in the message's region there is nothing to send through.
  const plan: RoutePlan =
    probeFailure?.type === FailureType.RegionUnserved
      ? {
          ...route(request, null, context),
          mode: 'sequential',
          steps: [],
          supplementaryRcs: false,
          reason: 'region_unserved',
        }
      : route(request, capability, context);
  const flow = effectiveFlow(request, plan);
  if (flow !== request.flow) run.setAttribute({ key: MessageFlowKey, value: flow });
  run.audit.add({
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
      ...syntheticMark(request),
    },
  });
  return { plan, flow };
}
