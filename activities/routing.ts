import { setTimeout as delay } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { ValidationError, validateDeliveryRequest } from '../domain/delivery-request';
import { FailureType } from '../domain/failures';
import { REQUEST_REFUSED, isRefusedPayload } from '../domain/refused-payload';
import type { ChannelFailureDetails } from '../domain/failures';
import type { DeliveryPolicy, DeliveryRequest, RecipientCapability } from '../domain/message';
import type { RoutingContext } from '../domain/rollout';
import { cohortBucket } from '../store/rollout/cohort';
import type { GuardSource, PreferenceSource, RegionalChannels, RolloutSource, RoutingMeter } from './deps';
import { toApplicationFailure } from './failures';

export interface RecipientRef {
  messageId: string;
  to: string;
  /** Residency: the carriers of this region, and no other, are used. */
  region: string;
}

/** What the workflow learns before it routes a message, in one local activity. */
export interface DeliveryLookups {
  policy: DeliveryPolicy;
  /** null when the probe failed. */
  capability: RecipientCapability | null;
  /** The probe's failure, as data: its type and code. */
  probeFailure: { type: string | null; code: string } | null;
  routing: RoutingContext;
}

// The probe's retries (it is usually a cache hit; a miss calls the hub).
const PROBE_ATTEMPTS = 3;
const PROBE_BACKOFF_MS = 500;
const PROBE_FINAL = new Set<string>([FailureType.RcsPermanent, FailureType.RegionUnserved]);

export interface RoutingDeps {
  policy: DeliveryPolicy;
  channels: RegionalChannels;
  rollout: RolloutSource;
  preferences: PreferenceSource;
  guard: Pick<GuardSource, 'get'>;
  /** Key of the hash that places a recipient in the cohort order. */
  cohortKey: string;
  meter?: RoutingMeter;
}

export function createRoutingActivities(deps: RoutingDeps) {
  const routingContext = async (input: RecipientRef): Promise<RoutingContext> => {
    const [config, preference, guard] = await Promise.all([
      deps.rollout.current(input.region),
      deps.preferences.get(input.to),
      deps.guard.get(input.region),
    ]);
    return {
      config,
      cohortBucket: cohortBucket(deps.cohortKey, input.to),
      preference,
      guardThrottled: guard?.throttled ?? false,
    };
  };

  /** A failed probe is an answer (routing falls back), not a throw. */
  const probe = async (
    input: RecipientRef,
  ): Promise<Pick<DeliveryLookups, 'capability' | 'probeFailure'>> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const capability = await deps.channels
          .forRegion(input.region)
          .capabilities.probe(input.to, input.messageId);
        return { capability, probeFailure: null };
      } catch (err) {
        const mapped = toApplicationFailure(err);
        const probeFailure =
          mapped instanceof ApplicationFailure
            ? {
                type: mapped.type ?? null,
                code:
                  (mapped.details?.[0] as ChannelFailureDetails | undefined)?.code ??
                  mapped.type ??
                  'UNKNOWN',
              }
            : {
                type: err instanceof Error ? err.name : null,
                code: err instanceof Error ? err.name : 'UNKNOWN',
              };
        const final =
          (mapped instanceof ApplicationFailure && mapped.nonRetryable) ||
          PROBE_FINAL.has(probeFailure.type ?? '');
        if (final || attempt >= PROBE_ATTEMPTS) return { capability: null, probeFailure };
        await delay(PROBE_BACKOFF_MS * 2 ** (attempt - 1));
      }
    }
  };

  return {
    /**
     * The request checked field by field (whoever wrote it), then the policy (recorded in
     * history), the recipient's capability and the region's rollout state.
     */
    async prepareDelivery({ request }: { request: DeliveryRequest }): Promise<DeliveryLookups> {
      const valid = refusedUnlessValid(request);
      const ref = { messageId: valid.messageId, to: valid.to, region: valid.region };
      try {
        const [probed, routing] = await Promise.all([probe(ref), routingContext(ref)]);
        deps.meter?.decided(ref.region, 'ok');
        return { policy: deps.policy, ...probed, routing };
      } catch (err) {
        deps.meter?.decided(ref.region, 'error');
        throw err;
      }
    },
  };
}

/** A request the worker will not act on fails its workflow, typed, never retried; nothing is sent. */
function refusedUnlessValid(request: unknown): DeliveryRequest {
  try {
    if (isRefusedPayload(request)) throw new ValidationError('input', 'a payload sealed by the worker codec');
    return validateDeliveryRequest(request);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw ApplicationFailure.create({
      type: REQUEST_REFUSED,
      message: `delivery request refused: ${err.message}`,
      nonRetryable: true,
      details: [{ field: err.field, expected: err.expected }],
    });
  }
}
