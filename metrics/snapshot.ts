import * as names from '../ops/metric-names';
import type { SwitchboardMetrics } from './registry';

/** One series of a metric as this process holds it now. */
export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

/**
 * This process's metrics right now, as the dashboard shows them: the same registry `/metrics`
 * serves (gauges read PostgreSQL when collected, as on a scrape). Probe metrics appear once a
 * probe has registered them; until then `probes` is null ("no probes").
 */
export interface MetricsSnapshot {
  messages: MetricSample[];
  rcsEligible: MetricSample[];
  rcsFallback: MetricSample[];
  guardThrottled: MetricSample[];
  guardFallbackRate: MetricSample[];
  rolloutPhase: MetricSample[];
  rolloutConfigVersion: MetricSample[];
  probes: { success: MetricSample[]; lastSuccessSeconds: MetricSample[] } | null;
}

export async function metricsSnapshot(metrics: SwitchboardMetrics): Promise<MetricsSnapshot> {
  const read = async (name: string): Promise<MetricSample[] | null> => {
    const metric = metrics.registry.getSingleMetric(name);
    if (!metric) return null;
    const { values } = await metric.get();
    return values.map((v) => ({
      labels: Object.fromEntries(Object.entries(v.labels).map(([k, l]) => [k, String(l)])),
      value: v.value,
    }));
  };
  const [messages, rcsEligible, rcsFallback, guardThrottled, guardFallbackRate, phase, version, probe, last] =
    await Promise.all(
      [
        names.MESSAGES_TOTAL,
        names.RCS_ELIGIBLE_TOTAL,
        names.RCS_FALLBACK_TOTAL,
        names.GUARD_THROTTLED,
        names.GUARD_FALLBACK_RATE,
        names.ROLLOUT_PHASE,
        names.ROLLOUT_CONFIG_VERSION,
        names.PROBE_SUCCESS,
        names.PROBE_LAST_SUCCESS_TIMESTAMP_SECONDS,
      ].map((m) => read(m.name)),
    );
  return {
    messages: messages ?? [],
    rcsEligible: rcsEligible ?? [],
    rcsFallback: rcsFallback ?? [],
    guardThrottled: guardThrottled ?? [],
    guardFallbackRate: guardFallbackRate ?? [],
    rolloutPhase: phase ?? [],
    rolloutConfigVersion: version ?? [],
    probes: probe ? { success: probe, lastSuccessSeconds: last ?? [] } : null,
  };
}
