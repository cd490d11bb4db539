import type { DeliveryRequest, FallbackReason, RecipientCapability } from '../domain/message';

export type RouteStep = { channel: 'rcs'; e2ee: boolean } | { channel: 'sms' };

export interface RoutePlan {
  steps: RouteStep[];
  /** Why the strongest channel is not first, when it is not. */
  reason: FallbackReason | 'e2ee_unavailable' | null;
}

/**
 * The routing decision, as a pure function of what we know: the recipient's capability and the
 * message's policy. RCS with E2EE → RCS → (app channel, not offered yet) → SMS.
 *
 * E2EE needs ciphertext made by the sender's app (client-managed keys), which requests do not
 * carry yet: `preferred` therefore takes plain RCS, and `required` yields an empty plan, so the
 * sender is told why instead of the text going out unencrypted.
 */
export function route(
  request: Pick<DeliveryRequest, 'flow' | 'e2ee'>,
  /** null when the capability could not be learnt (hub down, probe refused). */
  capability: Pick<RecipientCapability, 'rcs' | 'e2ee'> | null,
): RoutePlan {
  if (request.e2ee === 'required') {
    return { steps: [], reason: 'e2ee_unavailable' };
  }
  // Not knowing must never cost the message: SMS reaches every phone.
  if (!capability) return { steps: [{ channel: 'sms' }], reason: 'capability_unavailable' };
  if (request.flow === 'critical') {
    // Recipe B: SMS is authoritative for OTPs and legal notices.
    return { steps: [{ channel: 'sms' }], reason: 'policy_sms_only' };
  }
  if (!capability.rcs) return { steps: [{ channel: 'sms' }], reason: 'not_rcs_capable' };
  return { steps: [{ channel: 'rcs', e2ee: false }, { channel: 'sms' }], reason: null };
}
