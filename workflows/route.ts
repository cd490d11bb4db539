import type { DeliveryRequest, FallbackReason, Flow, RecipientCapability } from '../domain/message';
import type { Phase, RoutingContext } from '../domain/rollout';
import { inPilotCohort } from '../domain/rollout';

export type RouteStep = { channel: 'rcs'; e2ee: boolean } | { channel: 'sms' };

export interface RoutePlan {
  /** sequential: try steps in order until one delivers. dual: RCS and SMS at once (pilot). */
  mode: 'sequential' | 'dual';
  steps: RouteStep[];
  /** Critical flow: an RCS copy after the authoritative SMS, for the user's comfort only. */
  supplementaryRcs: boolean;
  /** Why the strongest channel is not first, when it is not. */
  reason: FallbackReason | null;
  phase: Phase;
  configVersion: number;
}

const RCS_THEN_SMS: RouteStep[] = [{ channel: 'rcs', e2ee: false }, { channel: 'sms' }];
const SMS_ONLY: RouteStep[] = [{ channel: 'sms' }];

/**
 * The routing decision, as a pure function of what we know: the message's policy, the
 * recipient's capability, and the region's rollout (phase, cohort, opt-in, guard).
 * RCS with E2EE → RCS → (app channel, not offered yet) → SMS.
 *
 * E2EE needs ciphertext made by the sender's app (client-managed keys). Without it, or for a
 * recipient without E2EE, `preferred` takes plain RCS and `required` sends only the app's notice.
 */
export function route(
  request: Pick<DeliveryRequest, 'flow' | 'e2ee' | 'rcsCopy' | 'e2eePayload' | 'textIsNotice'>,
  /** null when the capability could not be learnt (hub down, probe refused). */
  capability: Pick<RecipientCapability, 'rcs' | 'e2ee'> | null,
  context: RoutingContext,
): RoutePlan {
  const { config } = context;
  const phase = config.flowOverrides[request.flow] ?? config.phase;
  const plan = (
    steps: RouteStep[],
    reason: FallbackReason | null,
    mode: RoutePlan['mode'] = 'sequential',
  ): RoutePlan => ({
    mode,
    steps,
    supplementaryRcs: false,
    reason,
    phase,
    configVersion: config.version,
  });

  // Defence in depth: a `required` message whose text is not a notice must never leave unencrypted.
  if (request.e2ee === 'required' && !request.textIsNotice) return plan([], 'e2ee_unavailable');

  const rcsBlocked = rcsBlockedBy(phase, capability, context);

  if (request.flow === 'critical') {
    // Recipe B: SMS is authoritative for OTPs and legal notices; RCS may follow as a copy.
    return {
      ...plan(SMS_ONLY, 'critical_sms_first'),
      supplementaryRcs: !!request.rcsCopy && rcsBlocked === null,
    };
  }
  const e2eePossible = request.e2ee !== 'off' && !!request.e2eePayload && !!capability?.e2ee;
  if (request.e2ee === 'required' && !e2eePossible) {
    // Only the app's notice goes out; the sender learns why from the reason.
    return plan(rcsBlocked ? SMS_ONLY : RCS_THEN_SMS, 'e2ee_unavailable');
  }
  if (rcsBlocked) return plan(SMS_ONLY, rcsBlocked);

  // Client-managed E2EE: the app's ciphertext first; after it only what may go unencrypted
  // (the plaintext for `preferred`, the notice for `required`).
  if (e2eePossible) return plan([{ channel: 'rcs', e2ee: true }, ...RCS_THEN_SMS], null);

  if (
    request.flow === 'pilot' ||
    (phase === 'pilot' && inPilotCohort(context.cohortBucket, config.pilotPercent))
  ) {
    return plan(RCS_THEN_SMS, null, 'dual');
  }
  if (phase === 'pilot') return plan(SMS_ONLY, 'not_in_cohort');
  if (phase === 'rcs-first' && context.preference !== 'opt-in') return plan(SMS_ONLY, 'not_in_cohort');
  return plan(RCS_THEN_SMS, null);
}

/** Why RCS may not be used for this message at all, or null when it may. */
function rcsBlockedBy(
  phase: Phase,
  capability: Pick<RecipientCapability, 'rcs'> | null,
  { config, guardThrottled, preference }: RoutingContext,
): FallbackReason | null {
  if (config.killSwitch) return 'kill_switch';
  if (guardThrottled) return 'guard_throttled';
  if (preference === 'opt-out') return 'opted_out';
  if (phase === 'sms-only') return 'policy_sms_only';
  if (capability === null) return 'capability_unavailable';
  if (!capability.rcs) return 'not_rcs_capable';
  return null;
}

export function effectiveFlow(request: { flow: Flow }, plan: RoutePlan): Flow {
  return plan.mode === 'dual' ? 'pilot' : request.flow;
}
