import type { CapabilityCacheMeter } from '../channels/rcs/capability-cache';
import type { RcsHubMeter } from '../channels/rcs/types';
import type { SmppMeter } from '../channels/sms/types';
import * as names from '../ops/metric-names';
import { labelValue } from './registry';
import type { SwitchboardMetrics } from './registry';

export interface ChannelMeters {
  rcsHub: RcsHubMeter;
  capabilities: CapabilityCacheMeter;
  smpp: SmppMeter;
}

/** What a region's SMPP gateway reports when scraped. */
export interface SmppState {
  boundSessions: number;
  sendWindow: { size: number; outstanding: number };
}

/** One region's carrier meters: the region is bound here, so adapters never pass it. */
export function channelMeters(metrics: SwitchboardMetrics, regionName: string): ChannelMeters {
  const region = labelValue(regionName);
  return {
    rcsHub: {
      request: (op, status) => metrics.rcsHubRequests.inc({ region, op, status: labelValue(status) }),
    },
    capabilities: { lookup: (result) => metrics.capabilityLookups.inc({ region, result }) },
    smpp: {
      bind: (result) => metrics.smppBinds.inc({ region, result }),
      throttled: () => metrics.smppThrottles.inc({ region }),
      submitted: (seconds) => metrics.smppSubmit.observe({ region }, seconds),
    },
  };
}

/** The gauges of every region's SMPP gateway, read when Prometheus scrapes. */
export function watchSmppGateways(metrics: SwitchboardMetrics, gateways: () => Map<string, SmppState>): void {
  const each = (read: (s: SmppState) => number) => (g: { set(l: { region: string }, v: number): void }) => {
    for (const [region, state] of gateways()) g.set({ region: labelValue(region) }, read(state));
  };
  metrics.gauge(
    names.SMPP_BOUND_SESSIONS,
    'SMPP sessions bound now.',
    each((s) => s.boundSessions),
  );
  metrics.gauge(
    names.SMPP_WINDOW_IN_USE,
    'submit_sm awaiting their response.',
    each((s) => s.sendWindow.outstanding),
  );
  metrics.gauge(
    names.SMPP_WINDOW_SIZE,
    'The send window (shrinks on throttling).',
    each((s) => s.sendWindow.size),
  );
}
