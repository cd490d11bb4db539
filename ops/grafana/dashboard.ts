// The Grafana dashboard (ops/grafana/switchboard.json), built from the metric names
// (ops/metric-names.ts) and the SLOs (ops/slo/objectives.ts), with the operator page's panels.
// `node dist/ops/grafana/dashboard.js` writes it (then `npx prettier --write` it); a test checks
// the committed file holds the same JSON and runs every query against a real Prometheus.
// `shorten` names the SLO records of the test's shortened rules (ops/slo/rules.ts).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as m from '../metric-names';
import { OBJECTIVES, promDuration } from '../slo/objectives';
import { BUDGET_REMAINING_RECORD, errorBudget, errorRatioRecord, scaled } from '../slo/rules';
import type { RuleOptions } from '../slo/rules';

export const GRAFANA_FILE = join(__dirname, '..', '..', '..', 'ops', 'grafana', 'switchboard.json');

interface Target {
  expr: string;
  legendFormat: string;
}
interface PanelSpec {
  title: string;
  description: string;
  type: 'timeseries' | 'table' | 'stat';
  unit: string;
  width: number;
  targets: Target[];
  /** A red threshold line (the fallback SLO's 5 %). */
  threshold?: number;
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
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

function panelJson(p: PanelSpec, id: number, x: number, y: number): Record<string, unknown> {
  const steps: { color: string; value: number | null }[] = [{ color: 'green', value: null }];
  if (p.threshold !== undefined) steps.push({ color: 'red', value: p.threshold });
  return {
    id,
    type: p.type,
    title: p.title,
    description: p.description,
    datasource: DATASOURCE,
    gridPos: { h: 8, w: p.width, x, y },
    fieldConfig: {
      defaults: {
        unit: p.unit,
        thresholds: { mode: 'absolute', steps },
        ...(p.threshold !== undefined ? { custom: { thresholdsStyle: { mode: 'line' } } } : {}),
      },
      overrides: [],
    },
    options: p.type === 'table' ? { showHeader: true } : {},
    targets: p.targets.map((t, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: t.expr,
      legendFormat: t.legendFormat,
      ...(p.type === 'table' ? { format: 'table', instant: true } : {}),
    })),
  };
}

export function grafanaDashboard(options: RuleOptions): Record<string, unknown> {
  let x = 0;
  let y = 0;
  const list = panels(options).map((p, i) => {
    if (x + p.width > 24) [x, y] = [0, y + 8];
    const json = panelJson(p, i + 1, x, y);
    x += p.width;
    return json;
  });
  return {
    title: 'Switchboard',
    uid: 'switchboard',
    description: 'SMS → RCS migration: latency, fallback, channel mix, E2EE, probes, guard, rollout, SLOs.',
    tags: ['switchboard'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus' },
        {
          name: 'region',
          type: 'query',
          datasource: DATASOURCE,
          definition: `label_values(${m.RCS_ELIGIBLE_TOTAL.name}, region)`,
          query: { query: `label_values(${m.RCS_ELIGIBLE_TOTAL.name}, region)`, refId: 'region' },
          includeAll: true,
          multi: true,
          allValue: '.*',
          refresh: 2,
        },
      ],
    },
    panels: list,
  };
}

export const grafanaJson = (options: RuleOptions) =>
  `${JSON.stringify(grafanaDashboard(options), null, 2)}\n`;

if (require.main === module) {
  writeFileSync(GRAFANA_FILE, grafanaJson({ shorten: 1 }));
  process.stdout.write(`wrote ${GRAFANA_FILE}\n`);
}
