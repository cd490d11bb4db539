// The page's charts (uPlot, whose own bundle defines the global `uPlot`): one shared x axis of
// buckets over the window, a line per series.

/// <reference types="uplot" />
import type { Data } from './data-types.js';

type Chart = uPlot;
type Options = uPlot.Options;

const COLOURS = ['#1f6feb', '#d4380d', '#389e0d', '#9254de', '#d48806', '#08979c'];
export const charts: Record<string, Chart> = {};

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

export function renderCharts(d: Data): void {
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
}
