import { workflowInfo } from '@temporalio/workflow';
import type { DeliveryOutcome, DeliveryRequest } from '../domain/message';
import { prepareDelivery } from './activities-proxy';
import { AUDIT_LANE, syntheticMark } from './audit-trail';
import { MessageFlowKey } from './definitions';
import { DeliveryRun } from './delivery-run';
import { deliverInTurn } from './in-turn';
import { conclude } from './outcome';
import { raceChannels } from './pilot-race';
import { decideRoute } from './routing-decision';
import { rethrowRefusal, sealedInput } from './refusals';
import { attachShortlink } from './shortlink-step';

/**
 * One message, from request to delivered or failed: learn what the recipient can take and what
 * the region's rollout allows, route, wrap media in a secure link, deliver (channel after channel,
 * or a pilot's race), and record the outcome. Every transition is in the audit trail.
 */
export async function deliverMessage(input: DeliveryRequest): Promise<DeliveryOutcome> {
  const request = sealedInput(input);
  const { workflowId } = workflowInfo();
  const startedAt = Date.now();
  const lookups = await prepareDelivery({ request }).catch(rethrowRefusal);
  const run = new DeliveryRun(request, workflowId, lookups.policy, AUDIT_LANE.parent);
  let outcome: DeliveryOutcome | null = null;
  run.listen(() => ({ channel: null, outcome }));

  run.setAttribute({ key: MessageFlowKey, value: request.flow });
  run.audit.add({
    event: 'received',
    channel: null,
    result: null,
    errorCode: null,
    detail: { e2ee: request.e2ee, ...syntheticMark(request) },
  });
  run.enter('probing');
  const probeMs = Date.now() - startedAt;
  const { plan, flow } = decideRoute(run, lookups);

  const shortlink = await attachShortlink(run, request, plan);
  const result = plan.mode === 'dual' ? await raceChannels(run) : await deliverInTurn(run, plan);

  outcome = conclude(run, { plan, flow, result, shortlink, startedAt, probeMs });
  await run.flush();
  return outcome;
}
