import type { DeliveryMeter, RoutingMeter } from '../activities/deps';
import type { AuditContext, AuditEntry } from '../domain/audit';
import { labelValue } from './registry';
import type { SwitchboardMetrics } from './registry';

const seconds = (ms: number) => Math.max(0, ms) / 1000;
const numberOf = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Message metrics from the audit rows a write inserted (activities/delivery.ts passes only new
 * ones). The final row ('completed' / 'failed') carries what its outcome needs; 'accepted' rows
 * time the carrier's acceptance; 'e2ee_failure' rows count MLS failures.
 */
export function deliveryMeter(metrics: SwitchboardMetrics): DeliveryMeter {
  return {
    audited(context: AuditContext, entries: AuditEntry[]): void {
      // Probe traffic has its own metrics (metrics/probe-meter.ts): only its outcome is counted
      // here, labelled synthetic, so business counts and the fallback SLO filter it out.
      if (context.synthetic) {
        for (const e of entries)
          if (e.event === 'completed' || e.event === 'failed') countOutcome(metrics, context, e, 'true');
        return;
      }
      const region = labelValue(context.region);
      const submitted = context.submittedAt ? Date.parse(context.submittedAt) : NaN;
      const sinceSubmitted = (e: AuditEntry) =>
        Number.isNaN(submitted) ? null : seconds(Date.parse(e.occurredAt) - submitted);
      for (const e of entries) {
        if (e.event === 'accepted' && e.channel) {
          const s = sinceSubmitted(e);
          if (s !== null)
            metrics.deliveryLatency.observe({ region, channel: labelValue(e.channel), stage: 'accepted' }, s);
        } else if (e.event === 'e2ee_failure') {
          metrics.e2eeFailures.inc({ region, code: labelValue(e.errorCode, 'unknown') });
        } else if (e.event === 'completed' || e.event === 'failed') {
          outcome(metrics, context, e, region, sinceSubmitted(e));
        }
      }
    },
  };
}

function outcome(
  metrics: SwitchboardMetrics,
  context: AuditContext,
  e: AuditEntry,
  region: string,
  sinceSubmitted: number | null,
): void {
  const d = e.detail;
  const delivered = e.event === 'completed';
  const channel = labelValue(e.channel);
  countOutcome(metrics, context, e, 'false');
  if (delivered) {
    const totalMs = numberOf(d.totalMs);
    const total = sinceSubmitted ?? (totalMs === null ? null : seconds(totalMs));
    if (total !== null) metrics.deliveryLatency.observe({ region, channel, stage: 'delivered' }, total);
    for (const ch of ['rcs', 'sms'] as const) {
      const ms = numberOf(d[`${ch}Ms`]);
      if (ms !== null) metrics.receiptLatency.observe({ channel: ch }, seconds(ms));
    }
  }
  const negotiation = numberOf(d.e2eeNegotiationMs);
  if (negotiation !== null) metrics.e2eeNegotiation.observe(seconds(negotiation));
}

function countOutcome(
  metrics: SwitchboardMetrics,
  context: AuditContext,
  e: AuditEntry,
  synthetic: 'true' | 'false',
): void {
  const region = labelValue(context.region);
  const d = e.detail;
  metrics.messages.inc({
    region,
    flow: labelValue(typeof d.flow === 'string' ? d.flow : context.flow),
    channel: labelValue(e.channel),
    outcome: e.event === 'completed' ? 'delivered' : 'failed',
    fallback_reason: labelValue(typeof d.fallbackReason === 'string' ? d.fallbackReason : null),
    synthetic,
  });
  if (d.rcsEligible === true) metrics.rcsEligible.inc({ region, synthetic });
  if (d.rcsFellBack === true) metrics.rcsFallback.inc({ region, synthetic });
}

export function routingMeter(metrics: SwitchboardMetrics): RoutingMeter {
  return {
    decided(region, result) {
      metrics.routingDecisions.inc({ region: labelValue(region), result });
    },
  };
}
