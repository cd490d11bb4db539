// The page's tables: current metrics (messages, guard and rollout, probes) and the SLOs.

import type { Data, Sample, SloRow } from './data-types.js';

function row(cells: (string | { text: string; className?: string; testId?: string })[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    const cell = typeof c === 'string' ? { text: c } : c;
    td.textContent = cell.text;
    if (cell.className) td.className = cell.className;
    if (cell.testId) td.dataset.testid = cell.testId;
    tr.append(td);
  }
  return tr;
}

function fill(tableId: string, rows: HTMLTableRowElement[], empty: string, columns: number): void {
  const body = document.querySelector(`#${tableId} tbody`)!;
  body.replaceChildren(...rows);
  if (!rows.length)
    body.append(row([{ text: empty, className: 'empty' }, ...Array<string>(columns - 1).fill('')]));
}

export function renderMessages(messages: Sample[]): void {
  const by = new Map<string, { delivered: number; failed: number }>();
  for (const m of messages) {
    const c = by.get(m.labels.channel ?? 'none') ?? { delivered: 0, failed: 0 };
    if (m.labels.outcome === 'failed') c.failed += m.value;
    else c.delivered += m.value;
    by.set(m.labels.channel ?? 'none', c);
  }
  const rows = [...by]
    .sort()
    .map(([channel, c]) =>
      row([
        channel,
        { text: String(c.delivered), className: 'num' },
        { text: String(c.failed), className: 'num' },
        { text: String(c.delivered + c.failed), className: 'num', testId: `messages-${channel}` },
      ]),
    );
  fill('messages', rows, 'no messages yet', 4);
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? '–' : `${Number((x * 100).toFixed(2))} %`;
const byRegion = (samples: Sample[]) => new Map(samples.map((s) => [s.labels.region ?? '', s]));

export function renderRegions(d: Data): void {
  const throttled = byRegion(d.current.guardThrottled);
  const rate = byRegion(d.current.guardFallbackRate);
  const version = byRegion(d.current.rolloutConfigVersion);
  const phase = byRegion(d.current.rolloutPhase.filter((s) => s.value === 1));
  const regions = [...new Set([...throttled.keys(), ...version.keys()])].sort();
  const rows = regions.map((r) =>
    row([
      r,
      { text: phase.get(r)?.labels.phase ?? '–', testId: `phase-${r}` },
      { text: String(version.get(r)?.value ?? '–'), className: 'num' },
      throttled.get(r)?.value
        ? { text: 'throttling RCS', className: 'bad', testId: `guard-${r}` }
        : { text: 'open', className: 'good', testId: `guard-${r}` },
      { text: pct(rate.get(r)?.value), className: 'num' },
    ]),
  );
  fill('regions', rows, 'no regions', 5);
}

export function renderProbes(d: Data): void {
  const probes = d.current.probes;
  const last = new Map(
    (probes?.lastSuccessSeconds ?? []).map((s) => [`${s.labels.region}/${s.labels.carrier}`, s.value]),
  );
  const rows = (probes?.success ?? []).map((s) => {
    const at = last.get(`${s.labels.region}/${s.labels.carrier}`);
    return row([
      s.labels.region ?? '',
      s.labels.carrier ?? '',
      s.value === 1 ? { text: 'delivered', className: 'good' } : { text: 'failing', className: 'bad' },
      at ? new Date(at * 1000).toLocaleTimeString() : '–',
    ]);
  });
  fill('probes', rows, probes ? 'no probe has run yet' : 'no probes', 4);
}

export function renderSlo(slo: SloRow[]): void {
  const windows = Object.keys(slo[0]?.burnRates ?? {});
  const head = document.querySelector('#slo thead tr')!;
  head.replaceChildren(
    ...['SLO', 'target', 'budget left', ...windows.map((w) => `burn ${w}`)].map((t) => {
      const th = document.createElement('th');
      th.textContent = t;
      return th;
    }),
  );
  const rows = slo.map((s) =>
    row([
      s.name,
      pct(s.target),
      s.source === 'audit-trail'
        ? {
            text: pct(s.budgetRemaining),
            className: (s.budgetRemaining ?? 1) < 0 ? 'num bad' : 'num',
            testId: `budget-${s.name}`,
          }
        : { text: 'Prometheus only', className: 'empty' },
      ...windows.map((w) => {
        const b = s.burnRates[w];
        return {
          text: b === null || b === undefined ? '–' : `${b}×`,
          className: (b ?? 0) > 1 ? 'num bad' : 'num',
        };
      }),
    ]),
  );
  fill('slo', rows, 'no SLOs', 3 + windows.length);
}
