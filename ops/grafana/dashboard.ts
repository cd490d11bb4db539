// The Grafana dashboard (ops/grafana/switchboard.json): the panels of ./panels.ts laid out, a
// data source and a region variable. `node dist/ops/grafana/dashboard.js` writes it (then
// `npx prettier --write` it); a test checks the committed file holds the same JSON and runs every
// query against a real Prometheus.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as m from '../metric-names';
import { panels } from './panels';
import type { PanelSpec } from './panels';
import type { RuleOptions } from '../slo/rules';

export const GRAFANA_FILE = join(__dirname, '..', '..', '..', 'ops', 'grafana', 'switchboard.json');
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

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
