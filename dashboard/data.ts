// The JSON behind the operator page: time series from the audit trail (what `switchboard slo`
// reads, so the page works without Prometheus), the SLOs' budgets and burn rates, and this
// process's current metrics (the registry `/metrics` serves).

import { sloReport } from '../client/slo-commands';
import type { SliReport } from '../client/slo-commands';
import type { MetricsSnapshot } from '../metrics/snapshot';
import { BUDGET_WINDOW_SECONDS, OBJECTIVES, parseDuration } from '../ops/slo/objectives';
import { dashboardSeries } from '../store/dashboard-series';
import type { DashboardSeries } from '../store/dashboard-series';
import type { Database } from '../store/database';

/** About this many points per chart, never buckets under 5 s. */
const POINTS = 60;
const MIN_STEP_SECONDS = 5;
const MAX_WINDOW_SECONDS = 7 * 86400;

export interface DashboardData {
  generatedAt: string;
  windowSeconds: number;
  stepSeconds: number;
  /** The fallback SLO's line: 1 − its target (5 %). */
  fallbackThreshold: number;
  series: DashboardSeries;
  /** Each SLO over the 30-day budget, with burn rates over the alert windows. */
  slo: SliReport[];
  current: MetricsSnapshot;
}

export interface DashboardSources {
  db: Database;
  current(): Promise<MetricsSnapshot>;
}

/** A bad `window` is named, with what is expected. */
export class DashboardWindowError extends Error {
  readonly field = 'window';
  constructor() {
    super('window: expected a whole number and s, m, h or d, from 1m to 7d, e.g. 1h');
  }
}

export function parseWindow(text: string | undefined): number {
  const seconds = parseDuration(text ?? '1h');
  if (seconds === null || seconds < 60 || seconds > MAX_WINDOW_SECONDS) throw new DashboardWindowError();
  return seconds;
}

const fallbackObjective = OBJECTIVES.find((o) => o.name === 'rcs-fallback');
if (!fallbackObjective) throw new Error('ops/slo/objectives.ts has no rcs-fallback objective');
const FALLBACK_THRESHOLD = Math.round((1 - fallbackObjective.target) * 1e4) / 1e4;

export async function dashboardData(
  sources: DashboardSources,
  windowSeconds: number,
  now = new Date(),
): Promise<DashboardData> {
  const stepSeconds = Math.max(MIN_STEP_SECONDS, Math.ceil(windowSeconds / POINTS));
  const [series, slo, current] = await Promise.all([
    dashboardSeries(sources.db, { now, windowSeconds, stepSeconds }),
    sloReport(sources.db, now, BUDGET_WINDOW_SECONDS),
    sources.current(),
  ]);
  return {
    generatedAt: now.toISOString(),
    windowSeconds,
    stepSeconds,
    fallbackThreshold: FALLBACK_THRESHOLD,
    series,
    slo,
    current,
  };
}
