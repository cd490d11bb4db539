// The Grafana dashboard's panels in PromQL, over the metric names (ops/metric-names.ts) and the
// SLO recording rules (ops/slo/rules.ts): the operator page's charts and tables. `shorten` names
// the records of the test's shortened rules, as `--shorten` does for the rules.

import * as m from '../metric-names';
import { OBJECTIVES, promDuration } from '../slo/objectives';
import { BUDGET_REMAINING_RECORD, errorBudget, errorRatioRecord, scaled } from '../slo/rules';
import type { RuleOptions } from '../slo/rules';

export interface Target {
  expr: string;
  legendFormat: string;
}
export interface PanelSpec {
  title: string;
  description: string;
  type: 'timeseries' | 'table' | 'stat';
  unit: string;
  width: number;
  targets: Target[];
  /** A red threshold line (the fallback SLO's 5 %). */
  threshold?: number;
}

const R = '[$__rate_interval]';
const REGION = 'region=~"$region"';
const business = `${REGION},synthetic="false"`;
const rate = (metric: string, selector: string) => `rate(${metric}{${selector}}${R})`;

const fallbackObjective = OBJECTIVES.find((o) => o.name === 'rcs-fallback');
if (!fallbackObjective) throw new Error('ops/slo/objectives.ts has no rcs-fallback objective');
const FALLBACK_LINE = errorBudget(fallbackObjective);

function latency(q: number): Target {
  const buckets = rate(`${m.DELIVERY_LATENCY_SECONDS.name}_bucket`, `${REGION},stage="delivered"`);
  return {
    expr: `histogram_quantile(${q}, sum by (le, channel) (${buckets}))`,
    legendFormat: `{{channel}} p${q * 100}`,
  };
}

export function panels(options: RuleOptions): PanelSpec[] {
  const burnWindow = promDuration(scaled(3600, options));
  return [
    {
      title: 'Delivery latency (enqueue → delivered)',
      description: 'p50 and p95 per channel; RCS targets: median < 300 ms, p95 < 1 s.',
      type: 'timeseries',
      unit: 's',
      width: 24,
      targets: [latency(0.5), latency(0.95)],
    },
    {
      title: 'RCS fallback rate per region',
      description:
        'RCS-eligible business messages not delivered over RCS or with RCS trouble, against the 5 % SLO.',
      type: 'timeseries',
      unit: 'percentunit',
      width: 24,
      threshold: FALLBACK_LINE,
      targets: [
        {
          expr: `sum by (region) (${rate(m.RCS_FALLBACK_TOTAL.name, business)}) / sum by (region) (${rate(m.RCS_ELIGIBLE_TOTAL.name, business)})`,
          legendFormat: '{{region}}',
        },
      ],
    },
    {
      title: 'Channel mix',
      description: 'Finished business messages per second by channel (none: failed before any channel).',
      type: 'timeseries',
      unit: 'reqps',
      width: 12,
      targets: [
        { expr: `sum by (channel) (${rate(m.MESSAGES_TOTAL.name, business)})`, legendFormat: '{{channel}}' },
      ],
    },
    {
      title: 'E2EE share',
      description: 'Messages the sender app MLS-encrypted (negotiations timed), per delivered message.',
      type: 'timeseries',
      unit: 'percentunit',
      width: 12,
      targets: [
        {
          expr: `sum (rate(${m.E2EE_NEGOTIATION_SECONDS.name}_count${R})) / sum (${rate(m.MESSAGES_TOTAL.name, `${business},outcome="delivered"`)})`,
          legendFormat: 'E2EE',
        },
      ],
    },
    {
      title: 'Probe health per carrier',
      description:
        '1 = the last probe delivered; seconds since the last successful probe. Empty until probes run.',
      type: 'table',
      unit: 'none',
      width: 12,
      targets: [
        { expr: `min by (region, carrier) (${m.PROBE_SUCCESS.name}{${REGION}})`, legendFormat: 'success' },
        {
          expr: `time() - max by (region, carrier) (${m.PROBE_LAST_SUCCESS_TIMESTAMP_SECONDS.name}{${REGION}})`,
          legendFormat: 'seconds since success',
        },
      ],
    },
    {
      title: 'Guard and rollout',
      description:
        'Guard throttling (1 = RCS held back), its measured fallback rate, the rollout phase and config version.',
      type: 'table',
      unit: 'none',
      width: 12,
      targets: [
        { expr: `max by (region) (${m.GUARD_THROTTLED.name}{${REGION}})`, legendFormat: 'throttled' },
        {
          expr: `max by (region) (${m.GUARD_FALLBACK_RATE.name}{${REGION}})`,
          legendFormat: 'guard fallback rate',
        },
        {
          expr: `max by (region, phase) (${m.ROLLOUT_PHASE.name}{${REGION}}) == 1`,
          legendFormat: '{{phase}}',
        },
        {
          expr: `max by (region) (${m.ROLLOUT_CONFIG_VERSION.name}{${REGION}})`,
          legendFormat: 'config version',
        },
      ],
    },
    {
      title: 'Error budget left (30 days)',
      description:
        '1 = untouched, 0 = spent (slo:error_budget_remaining:ratio from ops/prometheus/slo-rules.yml).',
      type: 'stat',
      unit: 'percentunit',
      width: 12,
      targets: [{ expr: `min by (slo) (${BUDGET_REMAINING_RECORD})`, legendFormat: '{{slo}}' }],
    },
    {
      title: `Burn rate over ${burnWindow}`,
      description: 'Error ratio / error budget: 1 spends the budget in exactly 30 days, 14.4 pages.',
      type: 'timeseries',
      unit: 'none',
      width: 12,
      targets: OBJECTIVES.map((o) => ({
        expr: `max (${errorRatioRecord(burnWindow)}{slo="${o.name}"}) / ${errorBudget(o)}`,
        legendFormat: o.name,
      })),
    },
  ];
}
