// The operator page's script (a classic script: built by dashboard/page/tsconfig.json with the DOM
// types, loaded after uPlot's own bundle, which defines the global `uPlot`). It draws
// /dashboard/data.json and refreshes it every 15 s. The shapes below are dashboard/data.ts's.

/// <reference types="uplot" />
type Chart = uPlot;
type Options = uPlot.Options;

interface Sample {
  labels: Record<string, string>;
  value: number;
}
interface SloRow {
  name: string;
  target: number;
  source: string;
  budgetRemaining: number | null;
  burnRates: Record<string, number | null>;
}
interface Data {
  generatedAt: string;
  windowSeconds: number;
  stepSeconds: number;
  fallbackThreshold: number;
  series: {
    latency: { at: number; channel: string; p50: number; p95: number }[];
    fallback: { at: number; region: string; eligible: number; fellBack: number }[];
    mix: { at: number; channel: string; count: number }[];
    e2ee: { at: number; delivered: number; e2ee: number }[];
  };
  slo: SloRow[];
  current: {
    messages: Sample[];
    guardThrottled: Sample[];
    guardFallbackRate: Sample[];
    rolloutPhase: Sample[];
    rolloutConfigVersion: Sample[];
    probes: { success: Sample[]; lastSuccessSeconds: Sample[] } | null;
  };
}

const COLOURS = ['#1f6feb', '#d4380d', '#389e0d', '#9254de', '#d48806', '#08979c'];
const charts: Record<string, Chart> = {};
// For the page test (and a curious operator's console): the charts and the data they show.
(window as unknown as { switchboardDashboard: unknown }).switchboardDashboard = { charts, data: null };

/** Bucket starts from the window's start to now, so every chart shares one x axis. */
function buckets(d: Data): number[] {
  const end = Math.floor(Date.parse(d.generatedAt) / 1000 / d.stepSeconds) * d.stepSeconds;
  const xs: number[] = [];
  for (let t = end - d.windowSeconds + d.stepSeconds; t <= end; t += d.stepSeconds) xs.push(t);
  return xs;
}

/** One y array per key, aligned on xs; null where the key has no point in a bucket. */
function align<P extends { at: number }>(
  xs: number[],
  points: P[],
  key: (p: P) => string,
  value: (p: P) => number | null,
): Map<string, (number | null)[]> {
  const index = new Map(xs.map((x, i) => [x, i]));
  const out = new Map<string, (number | null)[]>();
  for (const p of points) {
    const i = index.get(p.at);
    if (i === undefined) continue;
    const k = key(p);
    if (!out.has(k))
      out.set(
        k,
        xs.map(() => null),
      );
    out.get(k)![i] = value(p);
  }
  // Sorted, so a series keeps its colour from one refresh to the next.
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

function draw(id: string, xs: number[], lines: [string, (number | null)[]][], yLabel: string): void {
  const el = document.getElementById(id)!;
  const data = [xs, ...lines.map(([, ys]) => ys)] as uPlot.AlignedData;
  const existing = charts[id];
  if (existing && existing.series.length === lines.length + 1) {
    existing.setData(data);
    return;
  }
  existing?.destroy();
  el.textContent = '';
  const options: Options = {
    width: Math.max(320, el.clientWidth),
    height: 240,
    scales: { x: { time: true } },
    axes: [{}, { label: yLabel }],
    series: [
      {},
      ...lines.map(([label], i) => ({
        label,
        stroke: COLOURS[i % COLOURS.length],
        width: 2,
        spanGaps: false,
        points: { show: true, size: 4 },
        ...(label.startsWith('SLO') ? { dash: [6, 4], points: { show: false } } : {}),
      })),
    ],
  };
  charts[id] = new uPlot(options, data, el);
}

function render(d: Data): void {
  const xs = buckets(d);
  const latency = d.series.latency;
  draw(
    'chart-latency',
    xs,
    [
      ...[
        ...align(
          xs,
          latency,
          (p) => `${p.channel} p50`,
          (p) => p.p50,
        ),
      ],
      ...[
        ...align(
          xs,
          latency,
          (p) => `${p.channel} p95`,
          (p) => p.p95,
        ),
      ],
    ],
    's',
  );
  const rates = align(
    xs,
    d.series.fallback,
    (p) => p.region,
    (p) => (p.eligible ? p.fellBack / p.eligible : null),
  );
  draw('chart-fallback', xs, [...rates, ['SLO 5 %', xs.map(() => d.fallbackThreshold)]], 'share');
  draw(
    'chart-mix',
    xs,
    [
      ...align(
        xs,
        d.series.mix,
        (p) => p.channel,
        (p) => p.count,
      ),
    ],
    'messages',
  );
  const e2ee = align(
    xs,
    d.series.e2ee,
    () => 'E2EE share',
    (p) => (p.delivered ? p.e2ee / p.delivered : null),
  );
  draw('chart-e2ee', xs, [...e2ee], 'share');
  renderMessages(d.current.messages);
  renderRegions(d);
  renderProbes(d);
  renderSlo(d.slo);
}

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

function renderMessages(messages: Sample[]): void {
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

function renderRegions(d: Data): void {
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

function renderProbes(d: Data): void {
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

function renderSlo(slo: SloRow[]): void {
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

async function refresh(): Promise<void> {
  const status = document.getElementById('status')!;
  const window_ = new URLSearchParams(location.search).get('window') ?? '1h';
  try {
    const response = await fetch(`/dashboard/data.json?window=${encodeURIComponent(window_)}`);
    const body = (await response.json()) as Data | { error: { message: string } };
    if ('error' in body) throw new Error(body.error.message);
    render(body);
    (window as unknown as { switchboardDashboard: { data: Data } }).switchboardDashboard.data = body;
    status.textContent = `last ${window_}, updated ${new Date(body.generatedAt).toLocaleTimeString()}`;
    status.dataset.ready = 'true';
  } catch (err) {
    status.textContent = `could not load the data: ${err instanceof Error ? err.message : String(err)}`;
  }
}

void refresh();
setInterval(() => void refresh(), 15000);
