// The seed playbook's alerts: symptoms an operator acts on before an SLO's budget is gone.
// Thresholds are starting points; every alert's playbook step is in README "Operating Switchboard".

import {
  CAPABILITY_LOOKUPS_TOTAL,
  E2EE_FAILURES_TOTAL,
  GUARD_THROTTLED,
  PROBE_LAST_SUCCESS_TIMESTAMP_SECONDS,
  PROBE_SUCCESS,
  RCS_ELIGIBLE_TOTAL,
  RECEIPT_INBOX_OLDEST_AGE_SECONDS,
  RCS_FALLBACK_TOTAL,
  RCS_HUB_REQUESTS_TOTAL,
  SMPP_THROTTLES_TOTAL,
  SMPP_WINDOW_IN_USE,
  SMPP_WINDOW_SIZE,
} from '../metric-names';
import { promDuration } from './objectives';
import type { Rule, RuleOptions } from './rules';
import { scaled } from './rules';

interface PlaybookAlert {
  alert: string;
  severity: 'page' | 'ticket';
  /** `$w` is replaced by the (shortened) rate window. */
  expr: string;
  forSeconds: number;
  summary: string;
  playbook: string;
}

const RATE_WINDOW_SECONDS = 300;
/** A probe runs every 30 s (PROBE_INTERVAL_MS): three missed runs are stale. */
const PROBE_STALE_SECONDS = 90;
/** Probe gauges are read from PostgreSQL by every worker alike: one alert per probe, not per instance. */
const PER_PROBE = 'max by (region, carrier, capability)';
/** An RCS receipt later than this makes its message fall back (RCS_RECEIPT_TIMEOUT_MS is 15 s). */
const INBOX_AGE_SECONDS = 60;

export const PLAYBOOK_ALERTS: readonly PlaybookAlert[] = [
  {
    alert: 'RcsFallbackSpike',
    severity: 'page',
    expr: `sum by (region) (rate(${RCS_FALLBACK_TOTAL.name}{synthetic="false"}[$w]))
/ sum by (region) (rate(${RCS_ELIGIBLE_TOTAL.name}{synthetic="false"}[$w])) > 0.05`,
    forSeconds: 300,
    summary: 'More than 5 % of RCS-eligible messages fall back in {{ $labels.region }}',
    playbook:
      'Throttle new RCS sends and roll back to the last good config (switchboard rollout rollback REGION); then look at RcsHubErrors and CapabilityQueryFailures.',
  },
  {
    alert: 'RcsHubErrors',
    severity: 'page',
    expr: `sum by (region) (rate(${RCS_HUB_REQUESTS_TOTAL.name}{status=~"5..|error"}[$w]))
/ sum by (region) (rate(${RCS_HUB_REQUESTS_TOTAL.name}[$w])) > 0.05`,
    forSeconds: 300,
    summary: 'More than 5 % of RCS hub requests fail in {{ $labels.region }}',
    playbook:
      "Check the hub's status page and our token; messages fall back to SMS by themselves. If it lasts, set the region's kill switch (switchboard rollout set REGION --kill-switch on).",
  },
  {
    alert: 'CapabilityQueryFailures',
    severity: 'page',
    expr: `sum by (region) (rate(${CAPABILITY_LOOKUPS_TOTAL.name}{result="error"}[$w]))
/ sum by (region) (rate(${CAPABILITY_LOOKUPS_TOTAL.name}[$w])) > 0.05`,
    forSeconds: 300,
    summary: 'More than 5 % of capability lookups fail in {{ $labels.region }}',
    playbook:
      'Stale cache entries are served meanwhile; check the hub capability endpoint and the database (capability_cache). Unknown recipients get SMS.',
  },
  {
    alert: 'SmsGatewaySaturated',
    severity: 'page',
    expr: `max by (region) (${SMPP_WINDOW_IN_USE.name} / ${SMPP_WINDOW_SIZE.name}) > 0.9`,
    forSeconds: 300,
    summary: 'The SMPP window of {{ $labels.region }} is over 90 % in use',
    playbook:
      'The SMSC answers slowly: check submit latency and the SMSC; raise the window or add binds only if the SMSC allows it.',
  },
  {
    alert: 'SmsGatewayThrottled',
    severity: 'ticket',
    expr: `sum by (region) (rate(${SMPP_THROTTLES_TOTAL.name}[$w])) > 0.1`,
    forSeconds: 600,
    summary: 'The SMSC of {{ $labels.region }} throttles submits',
    playbook:
      'We send faster than the contracted rate: compare SMPP_RATE_PER_SECOND with the contract, ask the carrier for more throughput.',
  },
  {
    alert: 'E2eeKeyNegotiationFailures',
    severity: 'ticket',
    expr: `sum by (region, code) (rate(${E2EE_FAILURES_TOTAL.name}[$w])) > 0.01`,
    forSeconds: 300,
    summary: 'E2EE key negotiation fails ({{ $labels.code }}) in {{ $labels.region }}',
    playbook:
      'Users get SMS fallback by themselves; forward the error codes (switchboard audit, event e2ee_failure) to security ops.',
  },
  {
    alert: 'ProbesFailing',
    severity: 'page',
    expr: `${PER_PROBE} (${PROBE_SUCCESS.name}) == 0`,
    forSeconds: 120,
    summary:
      'Synthetic {{ $labels.capability }} probes fail for {{ $labels.carrier }} in {{ $labels.region }}',
    playbook:
      'Real traffic on that carrier likely fails too: switchboard probes status REGION, open the latest probe workflow in the Temporal Web UI, then follow the channel alert it points to.',
  },
  {
    alert: 'ProbesStale',
    severity: 'page',
    expr: `time() - ${PER_PROBE} (${PROBE_LAST_SUCCESS_TIMESTAMP_SECONDS.name}) > ${PROBE_STALE_SECONDS}`,
    forSeconds: 60,
    summary:
      'No successful {{ $labels.capability }} probe for {{ $labels.carrier }} in {{ $labels.region }} lately',
    playbook:
      "Check the region's probe schedule (switchboard probes status; a paused one: switchboard probes enable) and the worker; without probes nothing else watches idle carriers.",
  },
  {
    alert: 'ReceiptInboxBacklog',
    severity: 'page',
    expr: `max(${RECEIPT_INBOX_OLDEST_AGE_SECONDS.name}) > ${INBOX_AGE_SECONDS}`,
    forSeconds: 120,
    summary: 'Receipts wait over a minute in the inbox for their workflows',
    playbook:
      'Receipts are kept, not lost, but late RCS receipts make messages fall back: check that the workers reach Temporal (worker logs, component receipts) and PostgreSQL; the dispatcher catches up by itself.',
  },
  {
    alert: 'RolloutGuardThrottling',
    severity: 'ticket',
    expr: `${GUARD_THROTTLED.name} == 1`,
    forSeconds: 900,
    summary: 'The rollout guard throttles RCS in {{ $labels.region }}',
    playbook:
      'The guard saw too much fallback and holds RCS back; fix the cause (see RcsFallbackSpike), it lifts by itself when the rate recovers.',
  },
];

export function playbookAlerts(options: RuleOptions): Rule[] {
  const window = promDuration(scaled(RATE_WINDOW_SECONDS, options));
  return PLAYBOOK_ALERTS.map((a) => ({
    alert: a.alert,
    expr: a.expr.replaceAll('$w', window),
    for: promDuration(scaled(a.forSeconds, options)),
    labels: { severity: a.severity },
    annotations: { summary: a.summary, playbook: a.playbook },
  }));
}
