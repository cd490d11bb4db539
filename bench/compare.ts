// Before/after: this run against a recorded earlier one (BENCH_BEFORE), usually of another
// revision. The two ran at different times, on a shared machine whose load moves every absolute
// number, so each run is judged against its own baseline A, measured minutes from its pipeline:
// throughput as ÷ A, latency over or minus A's latency floor. Raw numbers are shown beside them.
import { fmt, per1000, table } from './format';
import type { RecordedPath, RecordedPhase, RecordedRun } from './recorded-run';

/**
 * A path is "slower" when its closed-loop ÷ A fell by more than this. Closed-loop phases are
 * 3–25 s (a few hundred messages) and the machine is shared: ÷ A moves by up to ~10 % between
 * two runs of the same code.
 */
export const NOISE_MARGIN = 0.1;

export interface Verdict {
  path: string;
  label: string;
  /** Closed-loop msgs/s ÷ the same run's baseline A. */
  beforeRatioToA: number | null;
  afterRatioToA: number | null;
  /** after ÷ before of those ratios. */
  change: number | null;
  verdict: 'slower' | 'not slower' | 'not measured';
}

export interface Comparison {
  before: { name: string; at: string; file: string };
  noiseMargin: number;
  verdicts: Verdict[];
}

const finite = (n: number | null | undefined): n is number => typeof n === 'number' && Number.isFinite(n);

function quotient(a: number | null | undefined, b: number | null | undefined): number | null {
  return finite(a) && finite(b) && b !== 0 ? a / b : null;
}

function difference(a: number | null | undefined, b: number | null | undefined): number | null {
  return finite(a) && finite(b) ? a - b : null;
}

const ratioToA = (run: RecordedRun, x: RecordedPath | undefined) =>
  quotient(x?.closed.perSecondMedianWindow, run.baselineA.perSecondMedianWindow);

/** Paths of either run, in the order the after run measured them, then any only the before had. */
function pathKeys(before: RecordedRun, after: RecordedRun): Array<{ key: string; label: string }> {
  const keys = after.paths.map((x) => ({ key: x.path, label: x.label }));
  for (const x of before.paths)
    if (!keys.some((k) => k.key === x.path)) keys.push({ key: x.path, label: x.label });
  return keys;
}

export function verdicts(before: RecordedRun, after: RecordedRun): Verdict[] {
  return pathKeys(before, after).map(({ key, label }) => {
    const b = ratioToA(
      before,
      before.paths.find((x) => x.path === key),
    );
    const a = ratioToA(
      after,
      after.paths.find((x) => x.path === key),
    );
    const change = quotient(a, b);
    return {
      path: key,
      label,
      beforeRatioToA: b,
      afterRatioToA: a,
      change,
      verdict: change === null ? 'not measured' : change < 1 - NOISE_MARGIN ? 'slower' : 'not slower',
    };
  });
}

type Measure = [label: string, get: (run: RecordedRun, x: RecordedPath) => number | null, digits: number];

const cpu = (phase: RecordedPhase, value: number | null) => per1000(value, phase.completed);

const MEASURES: Measure[] = [
  ['closed msgs/s', (_, x) => x.closed.perSecondMedianWindow, 1],
  ['closed ÷ own baseline A', (r, x) => ratioToA(r, x), 2],
  ['closed p50 ms', (_, x) => x.closed.latencyMs.p50, 0],
  ['open msgs/s', (_, x) => x.open?.perSecond ?? null, 1],
  ['open p50 ms', (_, x) => x.open?.latencyMs.p50 ?? null, 0],
  ['open p95 ms', (_, x) => x.open?.latencyMs.p95 ?? null, 0],
  [
    'open p50 ÷ own A floor p50',
    (r, x) => quotient(x.open?.latencyMs.p50, r.baselineAFloor?.latencyMs.p50),
    2,
  ],
  [
    'open p95 ÷ own A floor p95',
    (r, x) => quotient(x.open?.latencyMs.p95, r.baselineAFloor?.latencyMs.p95),
    2,
  ],
  ['floor p50 ms', (_, x) => x.floor?.latencyMs.p50 ?? null, 0],
  [
    'floor p50 − own A floor p50 ms',
    (r, x) => difference(x.floor?.latencyMs.p50, r.baselineAFloor?.latencyMs.p50),
    0,
  ],
  ['history events', (_, x) => x.history?.events ?? null, 0],
  ['round trips', (_, x) => x.history?.roundTrips ?? null, 0],
  ['wf tasks', (_, x) => x.history?.workflowTasks ?? null, 0],
  ['SA upserts', (_, x) => x.history?.upserts ?? null, 0],
  ['bench CPU ms/1k', (_, x) => cpu(x.closed, x.closed.resources.benchCpuMs), 0],
  ['server CPU ms/1k', (_, x) => cpu(x.closed, x.closed.resources.temporalCpuMs), 0],
  ['PG CPU ms/1k', (_, x) => cpu(x.closed, x.closed.resources.postgresCpuMs), 0],
  ['others %', (_, x) => x.closed.resources.othersBusyPct, 0],
];

/** Round trips per activity: the names that appear in either history, whatever they are. */
function activityMeasures(b: RecordedPath | undefined, a: RecordedPath | undefined): Measure[] {
  const names = [
    ...new Set([...Object.keys(b?.history?.byActivity ?? {}), ...Object.keys(a?.history?.byActivity ?? {})]),
  ].sort();
  return names.map((name): Measure => [
    `  ${name}`,
    (_, x) => (x.history ? (x.history.byActivity[name] ?? 0) : null),
    0,
  ]);
}

const describe = (run: RecordedRun) => `${run.name} (${run.at}, BENCH_SCALE=${run.scale})`;

export function renderBeforeAfter(before: RecordedRun, after: RecordedRun, file: string): string {
  const out: string[] = [];
  out.push(`== Before/after: ${describe(before)} → ${describe(after)} ==`);
  out.push(`before: ${file}`);
  out.push(
    'measured at different times: each run is normalised by its own baseline A (throughput ÷ A, latency ' +
      'over or minus its A floor); raw numbers beside them. × = after ÷ before.',
  );
  if (before.scale !== after.scale)
    out.push(
      `note: BENCH_SCALE differs (${before.scale} vs ${after.scale}): phase lengths and message counts differ`,
    );
  if (before.concurrency !== after.concurrency)
    out.push(
      `note: closed-loop senders differ (${before.concurrency} vs ${after.concurrency}): ÷ A is still comparable, latencies are not`,
    );
  const busy = [...before.paths, ...after.paths].some((x) => (x.closed.resources.othersBusyPct ?? 0) > 10);
  if (busy)
    out.push('note: others % above 10 in a closed loop: the machine was busy, the numbers are disturbed');

  for (const v of verdicts(before, after)) {
    const why =
      v.change === null
        ? 'a run without a closed-loop rate for this path (no completions in its median window)'
        : `× ${fmt(v.change, 2)}; slower means below × ${fmt(1 - NOISE_MARGIN, 2)}, the run-to-run noise of short phases`;
    out.push(
      `verdict ${v.label}: ${v.verdict} — closed ÷ A ${fmt(v.beforeRatioToA, 2)} → ${fmt(v.afterRatioToA, 2)} (${why})`,
    );
  }

  const baselineRow = (label: string, get: (r: RecordedRun) => number | null, digits: number) => {
    const b = get(before);
    const a = get(after);
    return ['baseline A', label, fmt(b, digits), fmt(a, digits), fmt(quotient(a, b), 2)];
  };
  const rows: string[][] = [
    baselineRow('closed workflows/s', (r) => r.baselineA.perSecondMedianWindow, 1),
    baselineRow('floor p50 ms', (r) => r.baselineAFloor?.latencyMs.p50 ?? null, 0),
    baselineRow('floor p95 ms', (r) => r.baselineAFloor?.latencyMs.p95 ?? null, 0),
  ];
  for (const { key, label } of pathKeys(before, after)) {
    const b = before.paths.find((x) => x.path === key);
    const a = after.paths.find((x) => x.path === key);
    for (const [measure, get, digits] of [...MEASURES, ...activityMeasures(b, a)]) {
      const vb = b ? get(before, b) : null;
      const va = a ? get(after, a) : null;
      rows.push([label, measure, fmt(vb, digits), fmt(va, digits), fmt(quotient(va, vb), 2)]);
    }
  }
  out.push(
    table(['path', 'measure', `before ${before.name}`, `after ${after.name}`, '×'], rows, [
      false,
      false,
      true,
      true,
      true,
    ]),
  );
  out.push('');
  return out.join('\n');
}
