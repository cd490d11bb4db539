import type { ProbeMeter } from '../activities/probes';
import * as names from '../ops/metric-names';
import type { ProbeHealth } from '../store/probe-results';
import { labelValue } from './registry';
import type { SwitchboardMetrics } from './registry';

/** Probe counts from the results a write inserted (activities/probes.ts): each probe once. */
export function probeMeter(metrics: SwitchboardMetrics): ProbeMeter {
  return {
    recorded(region, results) {
      for (const r of results) {
        const labels = {
          region: labelValue(region),
          carrier: labelValue(r.carrier),
          capability: r.capability,
        };
        metrics.probeRuns.inc({ ...labels, result: r.result });
        if (r.latencyMs !== null) metrics.probeLatency.observe(labels, Math.max(0, r.latencyMs) / 1000);
        if (r.e2eeNegotiationMs !== null)
          metrics.probeE2eeNegotiation.observe(
            { region: labels.region, carrier: labels.carrier },
            Math.max(0, r.e2eeNegotiationMs) / 1000,
          );
      }
    },
  };
}

export interface ProbeStateSource {
  health(): Promise<ProbeHealth[]>;
  /** Every configured (region, carrier, capability): shown with 0 before its first success. */
  configured(): Array<Pick<ProbeHealth, 'region' | 'carrier' | 'capability'>>;
}

/**
 * Probe health read from PostgreSQL when Prometheus scrapes, so every worker shows the same
 * values whichever ran the probe, and a worker's restart loses nothing. A configured probe
 * that never succeeded shows a last success of 0, which ProbesStale sees.
 */
export function watchProbeHealth(metrics: SwitchboardMetrics, source: ProbeStateSource): void {
  let reading: Promise<ProbeHealth[] | null> | null = null;
  // Both gauges are collected in one scrape: they share one read; a failed read keeps the last values.
  const read = () => {
    reading ??= source
      .health()
      .catch(() => null)
      .finally(() => setImmediate(() => (reading = null)));
    return reading;
  };
  type Probe = Pick<ProbeHealth, 'region' | 'carrier' | 'capability'>;
  const each = async (set: (labels: Record<string, string>, h: ProbeHealth | null) => void) => {
    const health = await read();
    if (!health) return;
    const probes = new Map<string, { probe: Probe; health: ProbeHealth | null }>();
    const key = (p: Probe) => `${p.region}/${p.carrier}/${p.capability}`;
    for (const probe of source.configured()) probes.set(key(probe), { probe, health: null });
    for (const h of health) probes.set(key(h), { probe: h, health: h });
    for (const { probe, health: h } of probes.values()) {
      const { region, carrier, capability } = probe;
      set(
        { region: labelValue(region), carrier: labelValue(carrier), capability: labelValue(capability) },
        h,
      );
    }
  };
  metrics.gauge(names.PROBE_SUCCESS, '1 if the latest synthetic probe was ok, else 0.', (g) =>
    each((labels, h) => g.set(labels, h?.lastOk ? 1 : 0)),
  );
  metrics.gauge(
    names.PROBE_LAST_SUCCESS_TIMESTAMP_SECONDS,
    'Unix time of the last ok synthetic probe.',
    (g) => each((labels, h) => g.set(labels, h?.lastSuccessAt ?? 0)),
  );
}
