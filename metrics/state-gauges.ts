import type { RolloutConfig } from '../domain/rollout';
import { PHASES } from '../domain/rollout';
import * as names from '../ops/metric-names';
import type { GuardState } from '../store/rollout/guard-store';
import { labelValue } from './registry';
import type { SwitchboardMetrics } from './registry';

export interface RolloutStateSource {
  regions(): string[];
  guard(region: string): Promise<GuardState | null>;
  rollout(region: string): Promise<RolloutConfig>;
}

/**
 * Guard and rollout state per region, read from PostgreSQL when Prometheus scrapes (the state
 * lives there, written by the guard workflows and `switchboard rollout`). A region whose read
 * fails keeps its last values rather than failing the whole scrape.
 */
export function watchRolloutState(metrics: SwitchboardMetrics, source: RolloutStateSource): void {
  let reading: Promise<Map<string, { guard: GuardState | null; rollout: RolloutConfig }>> | null = null;
  // The four gauges are collected one after another in one scrape: they share one read.
  const read = () => {
    reading ??= (async () => {
      const states = new Map<string, { guard: GuardState | null; rollout: RolloutConfig }>();
      for (const region of source.regions()) {
        try {
          states.set(region, { guard: await source.guard(region), rollout: await source.rollout(region) });
        } catch {
          // the previous values stay
        }
      }
      return states;
    })().finally(() => setImmediate(() => (reading = null)));
    return reading;
  };
  metrics.gauge(names.GUARD_THROTTLED, '1 while the guard throttles RCS in the region.', async (g) => {
    for (const [region, s] of await read()) g.set({ region: labelValue(region) }, s.guard?.throttled ? 1 : 0);
  });
  metrics.gauge(names.GUARD_FALLBACK_RATE, 'The guard’s last measured fallback rate.', async (g) => {
    for (const [region, s] of await read())
      if (s.guard?.fallbackRate !== null && s.guard?.fallbackRate !== undefined)
        g.set({ region: labelValue(region) }, s.guard.fallbackRate);
  });
  metrics.gauge(names.ROLLOUT_PHASE, '1 for the region’s current rollout phase.', async (g) => {
    for (const [region, s] of await read())
      for (const phase of PHASES)
        g.set({ region: labelValue(region), phase }, s.rollout.phase === phase ? 1 : 0);
  });
  metrics.gauge(names.ROLLOUT_CONFIG_VERSION, 'The region’s rollout config version.', async (g) => {
    for (const [region, s] of await read()) g.set({ region: labelValue(region) }, s.rollout.version);
  });
}
