// promtool unit tests of every alert, written to ops/prometheus/tests/alerts.test.yml by the
// generator. The cases (series, times, expected labels) are hand-made here; only the expected
// annotations are copied from the rules, since promtool insists on them and they test nothing.

import {
  PROBE_LAST_SUCCESS_TIMESTAMP_SECONDS,
  PROBE_SUCCESS,
  RECEIPT_INBOX_DEPTH,
  RECEIPT_INBOX_OLDEST_AGE_SECONDS,
} from '../metric-names';
import type { Rule } from './rules';
import type { YamlValue } from './yaml';

interface Case {
  name: string;
  series: Record<string, string>;
  evalTime: string;
  /** alertname → the label sets expected to fire ([] = must stay silent). */
  expect: Record<string, Record<string, string>[]>;
  /** PromQL expressions and the samples they must give at evalTime. */
  samples?: Array<{ expr: string; exp: Array<{ labels: string; value: number }> }>;
}

const burn = (slo: string, severity: string, extra: Record<string, string> = {}) => ({
  slo,
  severity,
  ...extra,
});
const EU = { region: 'eu' };
const PLAYBOOK = [
  'RcsFallbackSpike',
  'RcsHubErrors',
  'CapabilityQueryFailures',
  'SmsGatewaySaturated',
  'SmsGatewayThrottled',
  'E2eeKeyNegotiationFailures',
  'ProbesFailing',
  'ProbesStale',
  'ReceiptInboxBacklog',
  'RolloutGuardThrottling',
];
const ALL_SILENT = Object.fromEntries(['SloErrorBudgetBurn', ...PLAYBOOK].map((a) => [a, []]));
const lat = 'switchboard_delivery_latency_seconds';
const probe = (metric: { name: string }, region: string, capability: string, instance = 'w1') =>
  `${metric.name}{region="${region}",carrier="sandbox",capability="${capability}",instance="${instance}"}`;
const rcsLat = 'region="eu",channel="rcs",stage="delivered"';

export const CASES: readonly Case[] = [
  {
    name: 'no error yet: error ratios are 0, not absent, and the whole budget is left',
    evalTime: '2h',
    series: {
      'switchboard_routing_decisions_total{region="eu",result="ok"}': '0+1000x180',
      'switchboard_http_requests_total{process="receipts",route="rbm-webhook",status="200"}': '0+1000x180',
    },
    expect: { SloErrorBudgetBurn: [] },
    samples: [
      {
        expr: 'slo:error_ratio:rate5m{slo="routing-availability"}',
        exp: [{ labels: 'slo:error_ratio:rate5m{region="eu",slo="routing-availability"}', value: 0 }],
      },
      {
        expr: 'slo:error_budget_remaining:ratio{slo=~"routing-availability|delivery-endpoints-availability"}',
        exp: [
          {
            labels: 'slo:error_budget_remaining:ratio{region="eu",slo="routing-availability"}',
            value: 1,
          },
          { labels: 'slo:error_budget_remaining:ratio{slo="delivery-endpoints-availability"}', value: 1 },
        ],
      },
    ],
  },
  {
    name: 'healthy traffic everywhere: nothing fires (synthetic fallback does not count)',
    evalTime: '2h',
    series: {
      'switchboard_routing_decisions_total{region="eu",result="ok"}': '0+1000x180',
      'switchboard_http_requests_total{process="receipts",route="rbm-webhook",status="200"}': '0+1000x180',
      [`${lat}_bucket{${rcsLat},le="0.3"}`]: '0+99x180',
      [`${lat}_bucket{${rcsLat},le="1"}`]: '0+100x180',
      [`${lat}_count{${rcsLat}}`]: '0+100x180',
      'switchboard_rcs_eligible_total{region="eu",synthetic="false"}': '0+100x180',
      'switchboard_rcs_fallback_total{region="eu",synthetic="false"}': '0+1x180',
      'switchboard_rcs_eligible_total{region="eu",synthetic="true"}': '0+10x180',
      'switchboard_rcs_fallback_total{region="eu",synthetic="true"}': '0+10x180',
      'switchboard_receipt_latency_seconds_bucket{channel="sms",le="30"}': '0+100x180',
      'switchboard_receipt_latency_seconds_count{channel="sms"}': '0+100x180',
      'switchboard_rcs_hub_requests_total{region="eu",op="send",status="200"}': '0+100x180',
      'switchboard_capability_lookups_total{region="eu",result="hit"}': '0+100x180',
      'switchboard_smpp_window_in_use{region="eu"}': '10x180',
      'switchboard_smpp_window_size{region="eu"}': '100x180',
      'switchboard_smpp_throttles_total{region="eu"}': '0x180',
      'switchboard_e2ee_failures_total{region="eu",code="NO_KEY_PACKAGE"}': '0x180',
      [probe(PROBE_SUCCESS, 'eu', 'rcs')]: '1x180',
      [probe(PROBE_LAST_SUCCESS_TIMESTAMP_SECONDS, 'eu', 'rcs')]: '0+60x180',
      [RECEIPT_INBOX_DEPTH.name]: '5x180',
      [RECEIPT_INBOX_OLDEST_AGE_SECONDS.name]: '2x180',
      'switchboard_guard_throttled{region="eu"}': '0x180',
    },
    expect: ALL_SILENT,
  },
  {
    name: 'routing errors at 1 % burn the 99.99 % budget: page and ticket',
    evalTime: '2h',
    series: {
      'switchboard_routing_decisions_total{region="eu",result="ok"}': '0+990x180',
      'switchboard_routing_decisions_total{region="eu",result="error"}': '0+10x180',
      'switchboard_routing_decisions_total{region="us",result="ok"}': '0+1000x180',
    },
    expect: {
      SloErrorBudgetBurn: [
        burn('routing-availability', 'page', EU),
        burn('routing-availability', 'ticket', EU),
      ],
    },
  },
  {
    name: 'delivery endpoints answer 5 % 503s: page and ticket',
    evalTime: '2h',
    series: {
      'switchboard_http_requests_total{process="receipts",route="rbm-webhook",status="200"}': '0+950x180',
      'switchboard_http_requests_total{process="receipts",route="rbm-webhook",status="503"}': '0+50x180',
    },
    expect: {
      SloErrorBudgetBurn: [
        burn('delivery-endpoints-availability', 'page'),
        burn('delivery-endpoints-availability', 'ticket'),
      ],
    },
  },
  {
    name: 'slow RCS: 80 % over 300 ms (median ticket), 50 % over 1 s (p95 page and ticket)',
    evalTime: '2h',
    series: {
      [`${lat}_bucket{${rcsLat},le="0.3"}`]: '0+2x180',
      [`${lat}_bucket{${rcsLat},le="1"}`]: '0+5x180',
      [`${lat}_count{${rcsLat}}`]: '0+10x180',
    },
    expect: {
      SloErrorBudgetBurn: [
        burn('rcs-latency-median', 'ticket', EU),
        burn('rcs-latency-p95', 'page', EU),
        burn('rcs-latency-p95', 'ticket', EU),
      ],
    },
  },
  {
    name: 'offline phones: 80 % of RCS-eligible fall back (budget burn and the spike alert)',
    evalTime: '2h',
    series: {
      'switchboard_rcs_eligible_total{region="eu",synthetic="false"}': '0+100x180',
      'switchboard_rcs_fallback_total{region="eu",synthetic="false"}': '0+80x180',
      'switchboard_rcs_eligible_total{region="us",synthetic="false"}': '0+100x180',
      'switchboard_rcs_fallback_total{region="us",synthetic="false"}': '0+1x180',
    },
    expect: {
      SloErrorBudgetBurn: [burn('rcs-fallback', 'page', EU), burn('rcs-fallback', 'ticket', EU)],
      RcsFallbackSpike: [{ severity: 'page', ...EU }],
    },
  },
  {
    name: 'SMS receipts: 90 % later than 30 s: page and ticket',
    evalTime: '2h',
    series: {
      'switchboard_receipt_latency_seconds_bucket{channel="sms",le="30"}': '0+10x180',
      'switchboard_receipt_latency_seconds_count{channel="sms"}': '0+100x180',
    },
    expect: {
      SloErrorBudgetBurn: [
        burn('sms-receipt-latency-p95', 'page'),
        burn('sms-receipt-latency-p95', 'ticket'),
      ],
    },
  },
  {
    name: 'the eu hub fails a sixth of requests; us is fine',
    evalTime: '30m',
    series: {
      'switchboard_rcs_hub_requests_total{region="eu",op="send",status="200"}': '0+100x60',
      'switchboard_rcs_hub_requests_total{region="eu",op="send",status="503"}': '0+20x60',
      'switchboard_rcs_hub_requests_total{region="us",op="send",status="200"}': '0+100x60',
    },
    expect: { RcsHubErrors: [{ severity: 'page', ...EU }] },
  },
  {
    name: 'capability lookups error 9 % of the time in eu',
    evalTime: '30m',
    series: {
      'switchboard_capability_lookups_total{region="eu",result="hit"}': '0+100x60',
      'switchboard_capability_lookups_total{region="eu",result="error"}': '0+10x60',
      'switchboard_capability_lookups_total{region="us",result="hit"}': '0+100x60',
    },
    expect: { CapabilityQueryFailures: [{ severity: 'page', ...EU }] },
  },
  {
    name: 'the eu SMPP window is 95 % full and the SMSC throttles once a second',
    evalTime: '30m',
    series: {
      'switchboard_smpp_window_in_use{region="eu"}': '95x60',
      'switchboard_smpp_window_size{region="eu"}': '100x60',
      'switchboard_smpp_window_in_use{region="us"}': '10x60',
      'switchboard_smpp_window_size{region="us"}': '100x60',
      'switchboard_smpp_throttles_total{region="eu"}': '0+60x60',
      'switchboard_smpp_throttles_total{region="us"}': '0x60',
    },
    expect: {
      SmsGatewaySaturated: [{ severity: 'page', ...EU }],
      SmsGatewayThrottled: [{ severity: 'ticket', ...EU }],
    },
  },
  {
    name: 'key negotiation fails in eu',
    evalTime: '30m',
    series: {
      'switchboard_e2ee_failures_total{region="eu",code="NO_KEY_PACKAGE"}': '0+6x60',
      'switchboard_e2ee_failures_total{region="us",code="NO_KEY_PACKAGE"}': '0x60',
    },
    expect: { E2eeKeyNegotiationFailures: [{ severity: 'ticket', region: 'eu', code: 'NO_KEY_PACKAGE' }] },
  },
  {
    name: 'eu RCS probes fail and went stale (seen by two workers); eu SMS and us probes succeed',
    evalTime: '30m',
    series: {
      [probe(PROBE_SUCCESS, 'eu', 'rcs')]: '0x60',
      [probe(PROBE_SUCCESS, 'eu', 'rcs', 'w2')]: '0x60',
      [probe(PROBE_SUCCESS, 'eu', 'sms')]: '1x60',
      [probe(PROBE_SUCCESS, 'us', 'rcs')]: '1x60',
      [probe(PROBE_LAST_SUCCESS_TIMESTAMP_SECONDS, 'eu', 'rcs')]: '0x60',
      [probe(PROBE_LAST_SUCCESS_TIMESTAMP_SECONDS, 'eu', 'rcs', 'w2')]: '0x60',
      [probe(PROBE_LAST_SUCCESS_TIMESTAMP_SECONDS, 'eu', 'sms')]: '0+60x60',
      [probe(PROBE_LAST_SUCCESS_TIMESTAMP_SECONDS, 'us', 'rcs')]: '0+60x60',
    },
    expect: {
      ProbesFailing: [{ severity: 'page', region: 'eu', carrier: 'sandbox', capability: 'rcs' }],
      ProbesStale: [{ severity: 'page', region: 'eu', carrier: 'sandbox', capability: 'rcs' }],
    },
  },
  {
    name: 'one failed eu probe between successes: no page',
    evalTime: '10m',
    series: {
      [probe(PROBE_SUCCESS, 'eu', 'rcs')]: '1 1 1 1 1 1 1 1 0 1 1',
      [probe(PROBE_LAST_SUCCESS_TIMESTAMP_SECONDS, 'eu', 'rcs')]: '0 60 120 180 240 300 360 420 420 540 600',
    },
    expect: { ProbesFailing: [], ProbesStale: [] },
  },
  {
    name: 'receipts pile up in the inbox for 10 minutes',
    evalTime: '10m',
    series: {
      [RECEIPT_INBOX_DEPTH.name]: '0+50x20',
      [RECEIPT_INBOX_OLDEST_AGE_SECONDS.name]: '0+60x20',
    },
    expect: { ReceiptInboxBacklog: [{ severity: 'page' }] },
  },
  {
    name: 'the guard throttles eu for 20 minutes',
    evalTime: '30m',
    series: {
      'switchboard_guard_throttled{region="eu"}': '1x60',
      'switchboard_guard_throttled{region="us"}': '0x60',
    },
    expect: { RolloutGuardThrottling: [{ severity: 'ticket', ...EU }] },
  },
];

function annotationsFor(alerts: Rule[], alertname: string, labels: Record<string, string>): YamlValue {
  const rule = alerts.find(
    (r) =>
      r.alert === alertname &&
      Object.entries(r.labels as Record<string, string>).every(([k, v]) => labels[k] === v),
  );
  if (!rule) throw new Error(`no alert rule ${alertname} matches ${JSON.stringify(labels)}`);
  const fill = (text: string) =>
    text.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k: string) => labels[k] ?? '');
  return Object.fromEntries(
    Object.entries(rule.annotations as Record<string, string>).map(([k, v]) => [k, fill(v)]),
  );
}

export function promtoolTests(alerts: Rule[]): YamlValue {
  return {
    rule_files: ['../slo-rules.yml', '../alerts.yml'],
    evaluation_interval: '1m',
    tests: CASES.map((c) => ({
      name: c.name,
      interval: '1m',
      input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
      alert_rule_test: Object.entries(c.expect).map(([alertname, expected]) => ({
        eval_time: c.evalTime,
        alertname,
        exp_alerts: expected.map((labels) => ({
          exp_labels: labels,
          exp_annotations: annotationsFor(alerts, alertname, labels),
        })),
      })),
      ...(c.samples
        ? {
            promql_expr_test: c.samples.map((t) => ({
              expr: t.expr,
              eval_time: c.evalTime,
              exp_samples: t.exp.map((e) => ({ labels: e.labels, value: e.value })),
            })),
          }
        : {}),
    })),
  };
}
