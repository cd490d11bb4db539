import type { FallbackSample } from '../store/rollout/guard-store';
import type { GuardSource, RolloutSource } from './deps';

export interface GuardDecision {
  region: string;
  throttled: boolean;
  reason: string | null;
  fallbackRate: number | null;
  sampleSize: number;
  rollback: boolean;
}

/** The rollout guard's side effects: measuring a region's fallback rate and storing decisions. */
export function createGuardActivities(deps: {
  guard: GuardSource;
  rollout: Pick<RolloutSource, 'rollback'>;
}) {
  return {
    async measureFallback(input: { region: string; windowMs: number }): Promise<FallbackSample> {
      return deps.guard.measure(input.region, input.windowMs);
    },

    /** Stores the guard's decision; on a trip it may also roll the region back to its last good config. */
    async recordGuardDecision(decision: GuardDecision): Promise<{ rolledBackTo: number | null }> {
      await deps.guard.set({
        region: decision.region,
        throttled: decision.throttled,
        reason: decision.reason,
        fallbackRate: decision.fallbackRate,
        sampleSize: decision.sampleSize,
      });
      if (!decision.rollback) return { rolledBackTo: null };
      try {
        const restored = await deps.rollout.rollback(decision.region, 'guard rollback');
        return { rolledBackTo: restored.version };
      } catch (err) {
        if (err instanceof Error && err.name === 'NoGoodVersionError') return { rolledBackTo: null };
        throw err;
      }
    },
  };
}
