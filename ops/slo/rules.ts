// Recording rules per SLI and window, and the multi-window multi-burn-rate alerts on them.
// Windows are divided by `shorten` for a test variant (a 30-day budget in 12 hours with 60):
// the same rules, only faster.

import type { YamlValue } from './yaml';
import {
  ALERT_WINDOWS_SECONDS,
  BUDGET_WINDOW_SECONDS,
  BURN_RATE_ALERTS,
  OBJECTIVES,
  promDuration,
} from './objectives';
import type { Objective } from './objectives';

export interface RuleOptions {
  /** Divide every window and `for` by this (1 = production). */
  shorten: number;
}

export type Rule = Record<string, YamlValue>;

/** Seconds after shortening: whole seconds, at least one. */
export function scaled(seconds: number, { shorten }: RuleOptions): number {
  return Math.max(1, Math.round(seconds / shorten));
}

/** Floating noise off (1 - 0.9999 is 0.00009999999999998899). */
const tidy = (x: number) => Number(x.toPrecision(10));

export const errorBudget = (o: Objective) => tidy(1 - o.target);

export const errorRatioRecord = (window: string) => `slo:error_ratio:rate${window}`;
export const BUDGET_REMAINING_RECORD = 'slo:error_budget_remaining:ratio';

function sumBy(by: readonly string[], expr: string): string {
  return `sum${by.length ? ` by (${by.join(', ')})` : ''} (${expr})`;
}

function withSelector(series: string, selector: string): string {
  return selector ? `${series}{${selector}}` : series;
}

function errorRatioExpr(o: Objective, window: string): string {
  const p = o.prometheus;
  if (p.kind === 'ratio') {
    // `or … * 0`: while the error counter has no series yet, the ratio is 0, not absent, so burn
    // rates and the budget left exist from the first request on.
    const total = sumBy(p.by, `rate(${p.total}[${window}])`);
    return `(\n${sumBy(p.by, `rate(${p.errors}[${window}])`)}\nor\n${total} * 0\n)\n/\n${total}`;
  }
  const bucketSelector = [p.selector, `le="${p.le}"`].filter(Boolean).join(',');
  const good = sumBy(p.by, `rate(${withSelector(`${p.histogram}_bucket`, bucketSelector)}[${window}])`);
  const total = sumBy(p.by, `rate(${withSelector(`${p.histogram}_count`, p.selector)}[${window}])`);
  return `1 - (\n${good}\n/\n${total}\n)`;
}

export function recordingRules(options: RuleOptions): Rule[] {
  const windows = [...ALERT_WINDOWS_SECONDS, BUDGET_WINDOW_SECONDS].map((s) =>
    promDuration(scaled(s, options)),
  );
  const budgetWindow = promDuration(scaled(BUDGET_WINDOW_SECONDS, options));
  return OBJECTIVES.flatMap((o) => [
    ...windows.map((w) => ({
      record: errorRatioRecord(w),
      expr: errorRatioExpr(o, w),
      labels: { slo: o.name },
    })),
    {
      record: BUDGET_REMAINING_RECORD,
      expr: `1 - ${errorRatioRecord(budgetWindow)}{slo="${o.name}"} / ${errorBudget(o)}`,
      labels: { slo: o.name },
    },
  ]);
}

/**
 * One alert per objective and severity, its window pairs joined with `or`. A pair whose
 * threshold is not below 1 can never fire (a 50 % target burning 3× would need 150 % errors),
 * so it is left out, and so is a severity with no pair left.
 */
export function burnRateAlerts(options: RuleOptions): Rule[] {
  return OBJECTIVES.flatMap((o) =>
    (['page', 'ticket'] as const).flatMap((severity) => {
      const pairs = BURN_RATE_ALERTS.filter(
        (a) => a.severity === severity && a.burnRate * errorBudget(o) < 1,
      ).map((a) => {
        const threshold = tidy(a.burnRate * errorBudget(o));
        const long = promDuration(scaled(a.longSeconds, options));
        const short = promDuration(scaled(a.shortSeconds, options));
        const sel = `{slo="${o.name}"}`;
        return `(${errorRatioRecord(long)}${sel} > ${threshold} and ${errorRatioRecord(short)}${sel} > ${threshold})`;
      });
      if (pairs.length === 0) return [];
      return [
        {
          alert: 'SloErrorBudgetBurn',
          expr: pairs.join('\nor\n'),
          labels: { severity, slo: o.name },
          annotations: {
            summary: `${o.name}: error budget burning too fast (${severity})`,
            description: `${o.description}; target ${o.target * 100} % over ${promDuration(scaled(BUDGET_WINDOW_SECONDS, options))}.`,
            playbook:
              'README.md#operating-switchboard: run `switchboard slo` and follow the SLO’s playbook step.',
          },
        },
      ];
    }),
  );
}
